#include "retrain/state.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "core/file.h"
#include "core/config.h"
#include "retrain/lock.h"
#include "retrain/retrain.h"
#include "tests/support/temp_dir.h"

namespace tune::retrain {
namespace {

using ::testing::HasSubstr;
using tune::testing::TempDir;

TEST(RetrainOptionsTest, ReadsTheWarmStartKeysAndNamesABadOne) {
  auto config = core::Config::Parse("[retrain]\nwarm_start = true\nwarm_steps = 50\nwarm_lr = 0.0025\n", "tune.toml");
  ASSERT_TRUE(config.ok()) << config.status();
  absl::StatusOr<RetrainOptions> o = ParseRetrainOptions(*config);
  ASSERT_TRUE(o.ok()) << o.status();
  EXPECT_TRUE(o->warm_start);
  EXPECT_EQ(o->warm_steps, 50);
  EXPECT_DOUBLE_EQ(o->warm_lr, 0.0025);
  auto defaults = ParseRetrainOptions(*core::Config::Parse("", "tune.toml"));
  ASSERT_TRUE(defaults.ok());
  EXPECT_FALSE(defaults->warm_start);
  EXPECT_EQ(defaults->warm_steps, 0);
  EXPECT_EQ(defaults->warm_lr, 0.0);
  const std::pair<const char*, const char*> bad_lines[] = {
      {"warm_steps = -1\n", "retrain.warm_steps"}, {"warm_start = 1\n", "retrain.warm_start"},
      {"warm_stat = true\n", "warm_stat"},         {"warm_lr = 2.0\n", "retrain.warm_lr"}};
  for (const auto& [line, key] : bad_lines) {
    auto parsed = ParseRetrainOptions(*core::Config::Parse(std::string("[retrain]\n") + line, "tune.toml"));
    EXPECT_EQ(parsed.status().code(), absl::StatusCode::kInvalidArgument) << line;
    EXPECT_THAT(std::string(parsed.status().message()), HasSubstr("tune.toml")) << parsed.status();
    EXPECT_THAT(std::string(parsed.status().message()), HasSubstr(key)) << parsed.status();
  }
}

TEST(RetrainStateTest, RoundTripsAndNumbersRunsAfterTheLast) {
  TempDir tmp;
  RetrainState s = ReadState(tmp / "state.json").value();  // missing file: empty state
  EXPECT_TRUE(s.runs.empty());
  EXPECT_EQ(s.NewRunId(), "r0001");
  RunRecord r;
  r.id = "r0001";
  r.commit = "abc";
  r.outcome = "promoted";
  r.candidate = Scores{0.5, 0.75};
  s.runs.push_back(r);
  s.served = "r0001";
  s.last_commit = "abc";
  s.pending = PendingRun{"r0002", "def", "2026-12-07T00:00:00Z", Stage::kExport};
  ASSERT_TRUE(WriteState(tmp / "state.json", s).ok());
  RetrainState back = ReadState(tmp / "state.json").value();
  EXPECT_EQ(back.served, "r0001");
  ASSERT_EQ(back.runs.size(), 1u);
  EXPECT_EQ(back.runs[0].candidate->edit_similarity, 0.75);
  EXPECT_FALSE(back.runs[0].served.has_value());
  ASSERT_TRUE(back.pending.has_value());
  EXPECT_EQ(back.pending->stage, Stage::kExport);
  EXPECT_EQ(back.NewRunId(), "r0003");
  EXPECT_THAT(FormatHistory(back), HasSubstr("stopped in export"));
}

TEST(RetrainStateTest, MalformedStateNamesTheField) {
  TempDir tmp;
  tune::testing::WriteTestFile(tmp / "a.json", "{\"format\": \"tune-retrain-state\", \"format_version\": 1, "
                                               "\"last_commit\": \"x\", \"served\": 3, \"runs\": []}");
  absl::Status bad = ReadState(tmp / "a.json").status();
  EXPECT_EQ(bad.code(), absl::StatusCode::kDataLoss);
  EXPECT_THAT(bad.message(), HasSubstr("served"));
  tune::testing::WriteTestFile(tmp / "b.json", "{\"format\": \"tune-retrain-state\", \"format_version\": 2}");
  EXPECT_EQ(ReadState(tmp / "b.json").status().code(), absl::StatusCode::kFailedPrecondition);
  tune::testing::WriteTestFile(tmp / "c.json", "{\"format\": \"tune-retrain-state\", \"format_version\": 1, "
                                               "\"last_commit\": \"\", \"served\": \"\", \"runs\": [], "
                                               "\"pending\": {\"id\": \"r1\", \"commit\": \"c\", \"started\": \"\", "
                                               "\"stage\": \"deploy\"}}");
  EXPECT_THAT(ReadState(tmp / "c.json").status().message(), HasSubstr("pending.stage"));
  tune::testing::WriteTestFile(tmp / "e.json", "{\"format\": 7}");  // threw, found by fuzz/retrain_state
  EXPECT_THAT(ReadState(tmp / "e.json").status().message(), HasSubstr("field format"));
  tune::testing::WriteTestFile(tmp / "d.json", "{\"format\": \"tune-retrain-st");
  EXPECT_EQ(ReadState(tmp / "d.json").status().code(), absl::StatusCode::kDataLoss);
}

// Found by fuzz/retrain_state (fuzz/regressions/retrain_state/): scores without one of their keys
// were read through const operator[] (undefined behaviour, a use-after-free under ASan).
TEST(RetrainStateTest, ScoresMissingAKeyAndHugeRunIdsAreHandled) {
  TempDir tmp;
  const std::string head = "{\"format\": \"tune-retrain-state\", \"format_version\": 1, "
                           "\"last_commit\": \"\", \"served\": \"\", \"runs\": [{\"id\": ";
  const std::string fields = ", \"commit\": \"\", \"started\": \"\", \"finished\": \"\", "
                             "\"outcome\": \"\", \"reason\": \"\", \"stage\": \"\", \"served_id\": \"\"";
  tune::testing::WriteTestFile(tmp / "a.json", head + "\"r1\"" + fields +
                                                   ", \"candidate\": {\"exact_match\": 0.5}}]}");
  const absl::Status bad = ReadState(tmp / "a.json").status();
  EXPECT_EQ(bad.code(), absl::StatusCode::kDataLoss);
  EXPECT_THAT(bad.message(), HasSubstr("field runs[0].candidate.edit_similarity: is missing"));
  // The next id after a huge one stays in range (strtoll saturates; + 1 overflowed).
  tune::testing::WriteTestFile(tmp / "b.json", head + "\"r99999999999999999999\"" + fields + "}]}");
  RetrainState huge = ReadState(tmp / "b.json").value();
  EXPECT_EQ(huge.NewRunId(), "r1000000000");
}

TEST(RetrainLockTest, OneHolderAtATimeAndStaleLocksAreTakenOver) {
  TempDir tmp;
  {
    absl::StatusOr<RunLock> first = RunLock::Acquire(tmp.path());
    ASSERT_TRUE(first.ok()) << first.status();
    absl::StatusOr<RunLock> second = RunLock::Acquire(tmp.path());
    ASSERT_FALSE(second.ok());
    EXPECT_THAT(second.status().message(), HasSubstr("another tune retrain"));
  }
  EXPECT_FALSE(std::filesystem::exists(tmp / "lock")) << "released on destruction";
  // A lock left by a process that no longer exists (pid far above pid_max's default).
  tune::testing::WriteTestFile(tmp / "lock", "99999999\n");
  EXPECT_TRUE(RunLock::Acquire(tmp.path()).ok());
  tune::testing::WriteTestFile(tmp / "lock", "");  // torn mid-write
  EXPECT_TRUE(RunLock::Acquire(tmp.path()).ok());
}

}  // namespace
}  // namespace tune::retrain

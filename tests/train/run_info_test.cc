#include "train/run_info.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "tests/support/temp_dir.h"

namespace tune::train {
namespace {

using ::testing::HasSubstr;
using tune::testing::TempDir;

TEST(RunInfoTest, RoundTripsAndNamesWhatIsWrong) {
  TempDir tmp;
  RunInfo info;
  info.base = "/m/base";
  info.data = "/d/data";
  info.settings_json = R"({"lr":0.01})";
  info.processes = 2;
  info.device = "cpu";
  info.compute_dtype = "f32";
  info.data_repo_name = "acme";
  info.data_commit = "abc";
  info.steps = 10;
  info.tokens = 999;
  info.final_loss = 1.5;
  info.final_eval_loss = 1.25;
  ASSERT_TRUE(WriteRunInfo(tmp.path(), info).ok());
  RunInfo back = ReadRunInfo(tmp.path()).value();
  EXPECT_EQ(back.base, info.base);
  EXPECT_EQ(back.data_commit, "abc");
  EXPECT_EQ(back.processes, 2);
  EXPECT_EQ(back.final_eval_loss, 1.25);
  EXPECT_EQ(back.settings_json, R"({"lr":0.01})");

  EXPECT_EQ(ReadRunInfo(tmp / "missing").status().code(), absl::StatusCode::kNotFound);
  tune::testing::WriteTestFile(tmp / "bad/run.json", R"({"format_version": 1, "base": 3})");
  absl::Status bad = ReadRunInfo(tmp / "bad").status();
  EXPECT_EQ(bad.code(), absl::StatusCode::kDataLoss);
  EXPECT_THAT(bad.message(), HasSubstr("field base"));
  tune::testing::WriteTestFile(tmp / "v2/run.json", R"({"format_version": 2})");
  EXPECT_EQ(ReadRunInfo(tmp / "v2").status().code(), absl::StatusCode::kFailedPrecondition);
  tune::testing::WriteTestFile(tmp / "torn/run.json", R"({"format_ver)");
  EXPECT_EQ(ReadRunInfo(tmp / "torn").status().code(), absl::StatusCode::kDataLoss);
}

}  // namespace
}  // namespace tune::train

#include "doctor/doctor.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "absl/strings/str_format.h"
#include "core/config.h"
#include "core/file.h"
#include "doctor/memory_plan.h"
#include "tests/data/test_repo.h"
#include "tests/support/run_tune.h"
#include "tests/support/temp_dir.h"

namespace tune::doctor {
namespace {

using ::testing::HasSubstr;
using tune::testing::TempDir;
using tune::testing::TestRepo;

const ModelShape& Shape(const std::string& size) {
  for (const ModelShape& s : QwenCoderShapes()) {
    if (s.name == "Qwen2.5-Coder-" + size) return s;
  }
  ADD_FAILURE() << size;
  return QwenCoderShapes().front();
}

TEST(MemoryPlanTest, EstimatesGrowWithModelSequenceAndRank) {
  TrainShape t;
  double last = 0;
  for (const ModelShape& s : QwenCoderShapes()) {
    const double gb = EstimateQLoRA(s, t).total_gb();
    EXPECT_GT(gb, last) << s.name;
    last = gb;
  }
  TrainShape longer = t, wider = t;
  longer.seq_len = 4096;
  wider.rank = 64;
  EXPECT_GT(EstimateQLoRA(Shape("7B"), longer).activations_gb, EstimateQLoRA(Shape("7B"), t).activations_gb);
  EXPECT_GT(EstimateQLoRA(Shape("7B"), wider).adapters_gb, EstimateQLoRA(Shape("7B"), t).adapters_gb);
  // Published QLoRA runs of 7B models at 2k tokens take roughly 7-12 GB.
  const MemoryEstimate seven = EstimateQLoRA(Shape("7B"), t);
  EXPECT_GT(seven.total_gb(), 7.0);
  EXPECT_LT(seven.total_gb(), 12.0);
  EXPECT_NEAR(seven.weights_gb, 3.14 + 2.03, 0.2) << "NF4 projections + bf16 embedding and lm_head";
  EXPECT_NEAR(ServedSizeGb(Shape("7B"), "Q4_K_M"), 4.4, 0.4);
}

TEST(MemoryPlanTest, RecommendsTheLargestModelThatFits) {
  EXPECT_FALSE(Recommend(1.5).has_value()) << "nothing QLoRA-trains in 1.5 GiB";
  const std::optional<Recommendation> small = Recommend(7.2);  // an 8 GB card, 90 %
  ASSERT_TRUE(small.has_value());
  EXPECT_EQ(small->model.name, "Qwen2.5-Coder-3B");
  EXPECT_LE(small->memory.total_gb(), 7.2);
  EXPECT_EQ(small->quant, "Q8_0") << "3.3 GB at Q8_0 fits half the card";
  const std::optional<Recommendation> big = Recommend(21.6);  // a 24 GB card
  ASSERT_TRUE(big.has_value());
  EXPECT_EQ(big->model.name, "Qwen2.5-Coder-14B");
  EXPECT_EQ(big->train.seq_len, 4096);
  EXPECT_EQ(big->quant, "Q4_K_M") << "14B at Q8_0 would take 15 GB of 24";
  for (double free : {3.0, 5.0, 9.0, 12.0, 16.0, 40.0, 70.0}) {
    const std::optional<Recommendation> r = Recommend(free);
    ASSERT_TRUE(r.has_value()) << free;
    EXPECT_LE(r->memory.total_gb(), free);
  }
}

Environment CpuOnly() {
  Environment env;
  env.tune_version = "0.1.0";
  env.libtorch_version = "1.13.0";
  env.llama_cpp_version = "b1-test";
  return env;
}

TEST(MemoryPlanTest, TableHasEverySizeAndLength) {
  const std::string table = FormatMemoryTable();
  for (const ModelShape& s : QwenCoderShapes()) EXPECT_THAT(table, HasSubstr("| " + s.name + " |"));
  EXPECT_THAT(table, HasSubstr("4k tokens"));
}

TEST(DoctorTest, CpuMachineGetsTheTinyLoopAndRepositoryLanguages) {
  TempDir tmp;
  TestRepo repo(tmp / "repo");
  // A header and an extensionless script are told by their first bytes, as ingest tells them.
  repo.Commit({{"a.py", "x = 1\n"}, {"b.py", "y = 2\n"}, {"c.cc", "int c;\n"}, {"README.md", "# r\n"},
               {"c.h", "namespace c {\nint f();\n}\n"}, {"old.h", "int g(void);\n"},
               {"run", "#!/usr/bin/env python3\nprint(1)\n"}});
  DoctorReport r = RunDoctor(CpuOnly(), repo.path(), tmp.path());
  EXPECT_FALSE(r.failed());
  ASSERT_EQ(r.checks.size(), 4u);
  EXPECT_EQ(r.checks[1].status, "warn") << "no GPU";
  EXPECT_THAT(r.checks[3].detail, HasSubstr("python 3, cpp 2, c 1"));
  EXPECT_FALSE(r.recommendation.has_value());
  EXPECT_EQ(r.preset, "tiny");
  const std::string text = FormatDoctor(r);
  EXPECT_THAT(text, HasSubstr("no usable GPU"));
  EXPECT_THAT(text, HasSubstr("./scripts/run-default.sh"));

  ASSERT_TRUE(WriteTuneToml(r, repo.path(), tmp / "tune.toml", false).ok());
  EXPECT_EQ(WriteTuneToml(r, repo.path(), tmp / "tune.toml", false).code(), absl::StatusCode::kAlreadyExists);
  const std::string toml = core::ReadFile(tmp / "tune.toml").value();
  EXPECT_THAT(toml, HasSubstr("python (3 files)"));
  absl::StatusOr<core::Config> config = core::Config::Load(tmp / "tune.toml");
  ASSERT_TRUE(config.ok()) << config.status();
  EXPECT_TRUE(config->CheckSections({"model", "lora", "ingest", "train", "retrain"}).ok());
}

TEST(DoctorTest, GpuMachineGetsAPlanThatFitsAndItsCommands) {
  TempDir tmp;
  TestRepo repo(tmp / "repo");
  repo.Commit({{"main.go", "package main\n"}});
  Environment env = CpuOnly();
  env.cuda_build = true;
  env.gpus.push_back({0, "NVIDIA GeForce RTX 4090", 23.6, 23.0});
  DoctorReport r = RunDoctor(env, repo.path(), tmp.path());
  ASSERT_TRUE(r.recommendation.has_value());
  EXPECT_EQ(r.recommendation->model.name, "Qwen2.5-Coder-14B");
  EXPECT_LE(r.recommendation->memory.total_gb(), 23.0 * 0.9);
  const std::string text = FormatDoctor(r);
  EXPECT_THAT(text, HasSubstr("Qwen/Qwen2.5-Coder-14B"));
  EXPECT_THAT(text, HasSubstr("tune export --base models/Qwen2.5-Coder-14B --adapter run/ --quant Q4_K_M"));
  ASSERT_TRUE(WriteTuneToml(r, repo.path(), tmp / "tune.toml", false).ok());
  EXPECT_THAT(core::ReadFile(tmp / "tune.toml").value(), HasSubstr("seq_len = 4096"));
}

TEST(DoctorTest, NotARepositoryFails) {
  TempDir tmp;
  DoctorReport r = RunDoctor(CpuOnly(), tmp / "nothing", tmp.path());
  EXPECT_TRUE(r.failed());
  EXPECT_EQ(r.checks[3].status, "fail");
}

// The binary: doctor prints its checks; init writes ./tune.toml, which later commands read
// without --config (retrain --status validates the whole file).
TEST(DoctorCliTest, DoctorAndInitOnThisMachine) {
  TempDir tmp;
  TestRepo repo(tmp / "repo");
  repo.Commit({{"a.py", "x = 1\n"}});
  tune::testing::RunResult doctor = tune::testing::RunTune("doctor --repo " + repo.path().string());
  EXPECT_EQ(doctor.exit_code, 0) << doctor.output;
  EXPECT_THAT(doctor.output, HasSubstr("ok    build"));
  EXPECT_THAT(doctor.output, HasSubstr("LibTorch"));
  EXPECT_THAT(doctor.output, HasSubstr("llama.cpp "));
  const std::string in_repo = absl::StrFormat("--repo %s", repo.path().string());
  tune::testing::RunResult init = tune::testing::RunTune(
      absl::StrFormat("init %s --out %s", in_repo, (repo.path() / "tune.toml").string()));
  EXPECT_EQ(init.exit_code, 0) << init.output;
  tune::testing::RunResult again = tune::testing::RunTune(
      absl::StrFormat("init %s --out %s", in_repo, (repo.path() / "tune.toml").string()));
  EXPECT_EQ(again.exit_code, 2);
  EXPECT_THAT(again.output, HasSubstr("--force"));
  const int rc = std::system(absl::StrFormat("cd %s && %s/cli/tune retrain --status --dir r > %s 2>&1", repo.path().string(),
                                             TUNE_BINARY_DIR, (tmp / "status.log").string())
                                 .c_str());
  EXPECT_EQ(rc, 0) << core::ReadFile(tmp / "status.log").value_or("");
  tune::testing::RunResult missing = tune::testing::RunTune("doctor --repo " + (tmp / "nope").string());
  EXPECT_EQ(missing.exit_code, 1);
  EXPECT_THAT(missing.output, HasSubstr("fail  repository"));
}

}  // namespace
}  // namespace tune::doctor

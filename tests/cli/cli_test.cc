// End-to-end checks of the `tune` binary: flags, exit codes, and the debug commands producing
// Hugging Face's numbers.
#include <ATen/ATen.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <array>
#include <cstdio>
#include <string>
#include <sys/wait.h>

#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "formats/safetensors.h"
#include "model/tensor_io.h"
#include "tests/support/run_tune.h"
#include "tests/support/temp_dir.h"
#include "tests/support/tensor_testing.h"

namespace tune {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;
using tune::testing::FixturePath;
using tune::testing::RunResult;
using tune::testing::RunTune;
using tune::testing::TempDir;

at::Tensor Reference(const std::string& model, const std::string& name) {
  auto ckpt = formats::SafetensorsCheckpoint::OpenFile(FixturePath("tiny-" + model) / "reference.safetensors");
  const formats::TensorView* view = ckpt->Find(name);
  return model::ToTensor(*view, view->dtype == formats::DType::kI64 ? at::kLong : at::kFloat).value();
}

std::string IdsFlag(const at::Tensor& ids) {
  std::vector<int64_t> v(ids.data_ptr<int64_t>(), ids.data_ptr<int64_t>() + ids.numel());
  return absl::StrJoin(v, ",");
}

TEST(CliTest, VersionHelpAndUnknownFlags) {
  RunResult version = RunTune("--version");
  EXPECT_EQ(version.exit_code, 0);
  EXPECT_THAT(version.output, HasSubstr("tune 0."));
  RunResult help = RunTune("--help");
  EXPECT_EQ(help.exit_code, 0);
  EXPECT_THAT(help.output, HasSubstr("debug"));
  EXPECT_EQ(RunTune("debug logits --bogus").exit_code, 2);
  EXPECT_EQ(RunTune("").exit_code, 2);
  EXPECT_EQ(RunTune("nonsense").exit_code, 2);
}

TEST(CliTest, DebugLogitsWritesHuggingFaceLogits) {
  TempDir tmp;
  for (const std::string model : {"llama", "starcoder2"}) {
    at::Tensor ids = Reference(model, "input_ids")[1].contiguous();
    std::string out = (tmp / (model + ".safetensors")).string();
    RunResult r = RunTune(absl::StrFormat("debug logits --model %s --ids %s --out %s",
                                          FixturePath("tiny-" + model).string(), IdsFlag(ids), out));
    ASSERT_EQ(r.exit_code, 0) << r.output;
    auto file = formats::SafetensorsCheckpoint::OpenFile(out);
    ASSERT_TRUE(file.ok()) << file.status();
    at::Tensor logits = model::ToTensor(*file->Find("logits"), at::kFloat).value();
    EXPECT_TRUE(tune::testing::TensorNear(logits, Reference(model, "logits")[1], 1e-4)) << model;
  }
}

TEST(CliTest, DebugGenerateWithAdapterPrintsPeftGreedyTokens) {
  at::Tensor prompt = Reference("qwen2", "greedy_prompt")[0].contiguous();
  at::Tensor expected = Reference("qwen2", "lora_greedy_output")[0].contiguous();
  for (const char* merge : {"", " --merge"}) {
    RunResult r = RunTune(absl::StrFormat(
        "debug generate --model %s --adapter %s --ids %s --max-new %d%s",
        FixturePath("tiny-qwen2").string(), (FixturePath("tiny-qwen2") / "adapter").string(),
        IdsFlag(prompt), expected.numel(), merge));
    ASSERT_EQ(r.exit_code, 0) << r.output;
    EXPECT_EQ(r.output, "[" + IdsFlag(expected) + "]\n") << merge;
  }
}

TEST(CliTest, BadInputGivesExitCodeAndMessageNamingTheProblem) {
  std::string model = FixturePath("tiny-llama").string();
  RunResult missing = RunTune("debug generate --model /nonexistent --ids 1");
  EXPECT_EQ(missing.exit_code, 2);
  EXPECT_THAT(missing.output, HasSubstr("/nonexistent/config.json"));

  RunResult bad_ids = RunTune("debug generate --model " + model + " --ids 1,x");
  EXPECT_EQ(bad_ids.exit_code, 2);
  EXPECT_THAT(bad_ids.output, HasSubstr("--ids"));

  RunResult vocab = RunTune("debug generate --model " + model + " --ids 9999");
  EXPECT_EQ(vocab.exit_code, 2);
  EXPECT_THAT(vocab.output, HasSubstr("outside the model's vocabulary of 512"));

  RunResult key = RunTune("debug generate --model " + model + " --ids 1 --set lora.rnak=4");
  EXPECT_EQ(key.exit_code, 2);
  EXPECT_THAT(key.output, HasSubstr("unknown key 'lora.rnak'"));

  TempDir tmp;
  tune::testing::WriteTestFile(tmp / "bad.toml", "[model]\ndtype = \"float64\"\n");
  RunResult value = RunTune("debug generate --model " + model + " --ids 1 --config " + (tmp / "bad.toml").string());
  EXPECT_EQ(value.exit_code, 2);
  EXPECT_THAT(value.output, HasSubstr("bad.toml: model.dtype must be one of float32, bfloat16, float16"));

  RunResult wrong_adapter = RunTune("debug generate --model " + model + " --ids 1 --adapter " +
                                    (FixturePath("tiny-starcoder2") / "adapter").string());
  EXPECT_EQ(wrong_adapter.exit_code, 1);
  EXPECT_THAT(wrong_adapter.output, HasSubstr("another base model"));
  EXPECT_THAT(wrong_adapter.output, Not(HasSubstr("terminate")));
}

TEST(CliTest, EveryPresetConfigIsValid) {
  for (const auto& entry : std::filesystem::directory_iterator(tune::testing::SourcePath("configs"))) {
    if (entry.path().extension() != ".toml") continue;
    RunResult r = RunTune(absl::StrFormat("debug generate --config %s --model %s --ids 1 --max-new 2",
                                          entry.path().string(), FixturePath("tiny-llama").string()));
    EXPECT_EQ(r.exit_code, 0) << entry.path() << ": " << r.output;
  }
}

}  // namespace
}  // namespace tune

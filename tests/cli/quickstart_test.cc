// README command 1's loop (scripts/quickstart.sh), shortened to a few training steps: every
// artefact it promises exists and is what it claims, down to the HTTP completion.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <string>

#include <nlohmann/json.hpp>

#include "absl/strings/str_format.h"
#include "core/file.h"
#include "tests/support/run_tune.h"
#include "tests/support/temp_dir.h"

namespace tune {
namespace {

using ::testing::HasSubstr;
using nlohmann::json;
using tune::testing::FixturePath;
using tune::testing::SourcePath;
using tune::testing::TempDir;

std::string Read(const std::filesystem::path& p) { return core::ReadFile(p).value_or(""); }

TEST(QuickstartTest, TheLoopProducesEveryArtefactAndAnHttpCompletion) {
  TempDir tmp;
  const std::filesystem::path work = tmp / "run";
  const std::string cmd = absl::StrFormat(
      "TUNE_BIN=%s/cli/tune TUNE_WORK_DIR=%s TUNE_QUICKSTART_STEPS=20 TUNE_QUICKSTART_PRETRAIN_STEPS=10 TUNE_FIXTURE=%s %s", TUNE_BINARY_DIR,
      work.string(), FixturePath("tiny-llama").string(), SourcePath("scripts/quickstart.sh").string());
  const tune::testing::RunResult run = tune::testing::RunShell(cmd);
  ASSERT_EQ(run.exit_code, 0) << run.output;
  const std::string& out = run.output;

  // Each stage said what it did, in order.
  size_t at = 0;
  for (const char* stage : {"== tune debug pretrain", "== tune ingest", "== tune train", "== tune eval", "== tune export", "== tune serve",
                            "POST http://127.0.0.1:", "completion: \"", "== done"}) {
    const size_t found = out.find(stage, at);
    ASSERT_NE(found, std::string::npos) << stage << " missing or out of order in:\n" << out;
    at = found;
  }
  EXPECT_THAT(out, HasSubstr("This is a tiny model"));
  EXPECT_THAT(out, HasSubstr("pretrained 10 steps"));
  EXPECT_THAT(out, HasSubstr("trained 20 steps"));

  EXPECT_TRUE(std::filesystem::exists(work / "base/model.safetensors")) << "the pretrained tiny base";
  EXPECT_TRUE(std::filesystem::exists(work / "generic-cpp/.git")) << "the generic corpus";
  EXPECT_TRUE(json::parse(Read(work / "dataset/manifest.json"), nullptr, false).is_object());
  EXPECT_THAT(Read(work / "dataset/heldout.jsonl"), HasSubstr("\"tune-heldout\""));
  EXPECT_TRUE(std::filesystem::exists(work / "adapter/adapter_model.safetensors"));
  json eval = json::parse(Read(work / "eval.json"), nullptr, false);
  ASSERT_TRUE(eval.is_object());
  EXPECT_EQ(eval["format"], "tune-eval-report");
  EXPECT_GT(eval["tasks"].size(), 10u);
  EXPECT_EQ(eval["models"].size(), 4u) << "base, tuned and their +retrieval arms";
  EXPECT_TRUE(eval["retrieval"].is_object()) << "recall@k and the arms (--retrieval)";
  EXPECT_THAT(Read(work / "eval.html"), HasSubstr("<svg"));
  EXPECT_EQ(Read(work / "tiny-Q8_0.gguf").substr(0, 4), "GGUF");
  EXPECT_THAT(Read(work / "Modelfile"), HasSubstr("FROM"));
  // The server's answer to llama.vscode's request: a completion with llama.cpp's fields.
  json infill = json::parse(Read(work / "infill.json"), nullptr, false);
  ASSERT_TRUE(infill.is_object()) << Read(work / "infill.json");
  EXPECT_TRUE(infill["content"].is_string());
  EXPECT_EQ(infill["timings"]["predicted_n"], 24);
  EXPECT_GT(infill["timings"]["prompt_n"].get<int>(), 0);
  EXPECT_TRUE(infill["timings"].contains("retrieval_ms")) << "serve --index searched the dataset's index";
  EXPECT_THAT(Read(work / "serve.log"), HasSubstr("listening on http://127.0.0.1:"));
  EXPECT_THAT(Read(work / "serve.log"), HasSubstr("retrieval index"));
}

}  // namespace
}  // namespace tune

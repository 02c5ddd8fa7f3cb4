// Interop with real llama.cpp: each fixture's tiny model (llama, qwen2, qwen3, starcoder2) and
// its LoRA adapter are exported to GGUF with tune_gguf, loaded by llama.cpp (node-llama-cpp
// 3.21.1, CPU prebuilt) and decoded greedily; the tokens must equal Hugging Face's greedy
// output stored in reference.safetensors. Skips, saying why, only when node or the pinned
// package is not installed.
#include <cstdio>
#include <string>
#include <vector>

#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "formats/safetensors.h"
#include "gguf/gguf_reader.h"
#include "gguf/lora_adapter.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"
#include "tests/gguf/node_tools.h"
#include "tests/gguf/tiny_model_gguf.h"
#include "tests/support/temp_dir.h"

namespace tune::gguf {
namespace {

using ::tune::testing::FixturePath;
using ::tune::testing::TempDir;

std::vector<int64_t> ReferenceIds(const std::string& model, const std::string& name) {
  absl::StatusOr<formats::SafetensorsCheckpoint> ref =
      formats::SafetensorsCheckpoint::OpenFile(FixturePath(model) / "reference.safetensors");
  EXPECT_TRUE(ref.ok()) << ref.status();
  const formats::TensorView* t = ref->Find(name);
  EXPECT_TRUE(t != nullptr && t->dtype == formats::DType::kI64) << name;
  const auto* ids = reinterpret_cast<const int64_t*>(t->data);
  return std::vector<int64_t>(ids, ids + t->numel());
}

// Runs tools/llama_cpp/greedy.mjs; fails the test with node's output on any error.
std::vector<int64_t> LlamaCppGreedy(const std::filesystem::path& model,
                                    const std::vector<int64_t>& prompt, size_t n,
                                    const std::filesystem::path& lora = {}) {
  std::string cmd =
      absl::StrFormat("node '%s' --model '%s' --prompt %s --n %d",
                      tune::testing::SourcePath("tools/llama_cpp/greedy.mjs").string(),
                      model.string(), absl::StrJoin(prompt, ","), n);
  if (!lora.empty()) cmd += absl::StrFormat(" --lora '%s'", lora.string());
  cmd += " 2>&1";
  FILE* pipe = ::popen(cmd.c_str(), "r");
  EXPECT_NE(pipe, nullptr) << cmd;
  if (pipe == nullptr) return {};
  std::string output;
  char buf[4096];
  while (size_t got = std::fread(buf, 1, sizeof(buf), pipe)) output.append(buf, got);
  const int rc = ::pclose(pipe);
  EXPECT_EQ(rc, 0) << cmd << "\n" << output;
  // The JSON is the last line; llama.cpp may log above it.
  const size_t start = output.rfind("{\"tokens\"");
  EXPECT_NE(start, std::string::npos) << output;
  if (rc != 0 || start == std::string::npos) return {};
  return nlohmann::json::parse(output.substr(start)).at("tokens").get<std::vector<int64_t>>();
}

class LlamaCppInteropTest : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    const std::string missing = tune::testing::NodeToolsMissingReason();
    if (!missing.empty()) GTEST_SKIP() << missing;
  }
  std::vector<int64_t> Reference(const std::string& name) { return ReferenceIds(GetParam(), name); }
  TempDir dir_;
  const std::filesystem::path model_dir_ = FixturePath(GetParam());
};

TEST_P(LlamaCppInteropTest, F32ExportMatchesHuggingFaceGreedy) {
  const auto path = dir_ / "model-f32.gguf";
  absl::Status st = tune::testing::WriteTinyModelGguf(model_dir_, FileType::kF32, path);
  ASSERT_TRUE(st.ok()) << st;
  const std::vector<int64_t> expected = Reference("greedy_output");
  EXPECT_EQ(LlamaCppGreedy(path, Reference("greedy_prompt"), expected.size()), expected);
}

TEST_P(LlamaCppInteropTest, LoraAdapterMatchesHuggingFaceGreedy) {
  const auto base = dir_ / "model-f32.gguf";
  const auto lora = dir_ / "lora.gguf";
  ASSERT_TRUE(tune::testing::WriteTinyModelGguf(model_dir_, FileType::kF32, base).ok());
  absl::Status st = tune::testing::WriteTinyLoraGguf(model_dir_, lora);
  ASSERT_TRUE(st.ok()) << st;

  absl::StatusOr<GgufFile> file = GgufFile::Open(lora);
  ASSERT_TRUE(file.ok()) << file.status();
  absl::StatusOr<LoraAdapter> adapter = ReadLoraAdapter(*file);
  ASSERT_TRUE(adapter.ok()) << adapter.status();
  EXPECT_EQ(adapter->alpha, 16.0f);
  EXPECT_EQ(adapter->pairs.size(), GetParam() == "tiny-starcoder2" ? 12u : 14u);

  const std::vector<int64_t> expected = Reference("lora_greedy_output");
  EXPECT_EQ(LlamaCppGreedy(base, Reference("greedy_prompt"), expected.size(), lora), expected);
}

// Quantized exports: llama.cpp must load every type tune writes (Q8_0; Q4_K_M, whose 64- and
// 128-wide rows fall back to Q5_0 / Q8_0; F16; BF16) and generate in-vocabulary tokens.
// Greedy equality with the float model is not expected after 4-5 bit quantization, so the
// agreement is printed.
TEST_P(LlamaCppInteropTest, QuantizedExportsLoadAndGenerate) {
  const std::vector<int64_t> expected = Reference("greedy_output");
  for (FileType ftype : {FileType::kQ8_0, FileType::kQ4_K_M, FileType::kF16, FileType::kBF16}) {
    SCOPED_TRACE(std::string(FileTypeName(ftype)));
    const auto path = dir_ / absl::StrFormat("model-%s.gguf", FileTypeName(ftype));
    ASSERT_TRUE(tune::testing::WriteTinyModelGguf(model_dir_, ftype, path).ok());
    absl::StatusOr<GgufFile> file = GgufFile::Open(path);
    ASSERT_TRUE(file.ok()) << file.status();
    if (ftype == FileType::kQ4_K_M) {
      // 64/128-wide rows: Q4_K -> Q5_0; Q6_K (ffn_down of layer 1, the last of 2, which
      // use_more_bits picks; the output or tied token_embd) -> Q8_0; norms F32.
      EXPECT_EQ(file->FindTensor("blk.1.attn_q.weight")->type, GgmlType::kQ5_0);
      EXPECT_EQ(file->FindTensor("blk.0.ffn_down.weight")->type, GgmlType::kQ5_0);
      EXPECT_EQ(file->FindTensor("blk.1.ffn_down.weight")->type, GgmlType::kQ8_0);
      const TensorInfo* output = file->FindTensor("output.weight");
      EXPECT_EQ((output ? output : file->FindTensor("token_embd.weight"))->type, GgmlType::kQ8_0);
      EXPECT_EQ(file->FindTensor("blk.0.attn_norm.weight")->type, GgmlType::kF32);
    }
    const std::vector<int64_t> got =
        LlamaCppGreedy(path, Reference("greedy_prompt"), expected.size());
    ASSERT_EQ(got.size(), expected.size());
    size_t agree = 0;
    while (agree < got.size() && got[agree] == expected[agree]) ++agree;
    for (int64_t id : got) EXPECT_TRUE(id >= 0 && id < 512) << id;
    std::printf("%-16s %-7s first %zu of %zu greedy tokens equal HF f32\n", GetParam().c_str(),
                std::string(FileTypeName(ftype)).c_str(), agree, got.size());
  }
}

INSTANTIATE_TEST_SUITE_P(TinyModels, LlamaCppInteropTest,
                         ::testing::Values("tiny-llama", "tiny-qwen2", "tiny-qwen3",
                                           "tiny-starcoder2"),
                         [](const ::testing::TestParamInfo<std::string>& info) {
                           return info.param.substr(std::string_view("tiny-").size());
                         });

}  // namespace
}  // namespace tune::gguf

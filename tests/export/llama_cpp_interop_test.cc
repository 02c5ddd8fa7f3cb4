// Interop with real llama.cpp through `tune export`: each fixture's tiny model (llama, qwen2,
// qwen3, starcoder2) is exported with RunExport, loaded by llama.cpp (node-llama-cpp 3.21.1,
// CPU prebuilt) and decoded greedily; at F32 the tokens must equal tune's own greedy decoder
// (model::GreedyGenerate, what `tune debug generate` runs) and Hugging Face's output stored in
// reference.safetensors, with and without the adapter merged, and with the adapter applied by
// llama.cpp as a GGUF LoRA on top of the base export. Quantized exports must load and run; where
// their tokens first diverge is printed. Skips, saying why, only when node or the pinned package
// is not installed.
#include <cstdio>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "core/file.h"
#include "export/gguf_export.h"
#include "formats/safetensors.h"
#include "gguf/gguf_reader.h"
#include "gguf/lora_adapter.h"
#include "gguf/quant_mix.h"
#include "gtest/gtest.h"
#include "model/generate.h"
#include "model/model_options.h"
#include "nlohmann/json.hpp"
#include "tests/gguf/node_tools.h"
#include "tests/support/temp_dir.h"
#include "tokenizer/tokenizer.h"

namespace tune::exporter {
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

// tune's greedy continuation, as `tune debug generate --model DIR [--adapter DIR/adapter]`.
std::vector<int64_t> TuneGreedy(const std::string& model, const std::vector<int64_t>& prompt,
                                size_t n, bool with_adapter) {
  model::ModelOptions options;
  options.base = FixturePath(model);
  std::optional<std::filesystem::path> adapter;
  if (with_adapter) adapter = FixturePath(model) / "adapter";
  absl::StatusOr<model::Transformer> m =
      model::LoadModel(options, adapter, model::LoraMode::kMerged);
  EXPECT_TRUE(m.ok()) << m.status();
  if (!m.ok()) return {};
  const std::vector<int32_t> ids(prompt.begin(), prompt.end());
  const std::vector<int32_t> out = model::GreedyGenerate(
      *m, ids, {.max_new_tokens = static_cast<int64_t>(n), .stop_token = std::nullopt, .stop_after = {}});
  return std::vector<int64_t>(out.begin(), out.end());
}

// tests/tools/llama_cpp/greedy.mjs; fails the test with node's output on any error.
std::vector<int64_t> LlamaCppGreedy(const std::filesystem::path& model,
                                    const std::vector<int64_t>& prompt, size_t n,
                                    const std::filesystem::path& lora = {}) {
  absl::StatusOr<std::vector<int64_t>> tokens = tune::testing::LlamaCppGreedy(model, prompt, n, lora);
  EXPECT_TRUE(tokens.ok()) << tokens.status();
  return tokens.ok() ? *tokens : std::vector<int64_t>{};
}

class LlamaCppInteropTest : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    const std::string missing = tune::testing::NodeToolsMissingReason();
    if (!missing.empty()) GTEST_SKIP() << missing;
  }
  std::vector<int64_t> Reference(const std::string& name) { return ReferenceIds(GetParam(), name); }

  // RunExport of the fixture (its adapter merged when `with_adapter`) to dir_/file.
  std::filesystem::path Export(const std::string& quant, bool with_adapter,
                               bool adapter_only = false) {
    ExportOptions o;
    o.base = FixturePath(GetParam());
    if (with_adapter) o.adapter = o.base / "adapter";
    o.quant = quant;
    o.adapter_only = adapter_only;
    o.out = dir_ / absl::StrFormat("%s-%s%s.gguf", adapter_only ? "lora" : "model", quant,
                                   with_adapter && !adapter_only ? "-merged" : "");
    o.threads = 2;
    absl::StatusOr<ExportReport> report = RunExport(o);
    EXPECT_TRUE(report.ok()) << report.status();
    return o.out;
  }

  // tune's greedy decoding equals HF's `reference` tokens, and llama.cpp on the F32 export
  // equals tune's.
  void ExpectF32GreedyMatches(const std::string& reference, bool with_adapter) {
    const std::vector<int64_t> prompt = Reference("greedy_prompt");
    const std::vector<int64_t> expected = Reference(reference);
    const std::vector<int64_t> ours = TuneGreedy(GetParam(), prompt, expected.size(), with_adapter);
    EXPECT_EQ(ours, expected);
    EXPECT_EQ(LlamaCppGreedy(Export("F32", with_adapter), prompt, expected.size()), ours);
  }

  TempDir dir_;
};

TEST_P(LlamaCppInteropTest, F32ExportMatchesTuneAndHuggingFaceGreedy) {
  ExpectF32GreedyMatches("greedy_output", /*with_adapter=*/false);
}

TEST_P(LlamaCppInteropTest, MergedF32ExportMatchesTuneAndHuggingFaceGreedy) {
  ExpectF32GreedyMatches("lora_greedy_output", /*with_adapter=*/true);
}

// The GGUF LoRA adapter applied by llama.cpp on top of the base export gives what the merged
// export gives.
TEST_P(LlamaCppInteropTest, LoraAdapterOnBaseMatchesMergedExport) {
  const std::filesystem::path base = Export("F32", false);
  const std::filesystem::path lora = Export("F32", true, /*adapter_only=*/true);
  absl::StatusOr<gguf::GgufFile> file = gguf::GgufFile::Open(lora);
  ASSERT_TRUE(file.ok()) << file.status();
  absl::StatusOr<gguf::LoraAdapter> adapter = gguf::ReadLoraAdapter(*file);
  ASSERT_TRUE(adapter.ok()) << adapter.status();
  EXPECT_EQ(adapter->alpha, 16.0f);
  EXPECT_EQ(adapter->pairs.size(), GetParam() == "tiny-starcoder2" ? 12u : 14u);

  const std::vector<int64_t> prompt = Reference("greedy_prompt");
  const std::vector<int64_t> expected = Reference("lora_greedy_output");
  const std::vector<int64_t> with_lora = LlamaCppGreedy(base, prompt, expected.size(), lora);
  EXPECT_EQ(with_lora, expected);
  EXPECT_EQ(with_lora, LlamaCppGreedy(Export("F32", true), prompt, expected.size()));
}

// Quantized exports: llama.cpp must load every type (Q8_0; Q4_K_M, whose 64- and 128-wide rows
// fall back to Q5_0 / Q8_0; F16; BF16) and generate in-vocabulary tokens. Greedy equality with
// the float model is not expected after quantization, so where the tokens first diverge from
// tune's merged f32 decoding is printed.
TEST_P(LlamaCppInteropTest, QuantizedExportsLoadAndGenerate) {
  const std::vector<int64_t> prompt = Reference("greedy_prompt");
  const std::vector<int64_t> expected = Reference("lora_greedy_output");
  for (const std::string quant : {"Q8_0", "Q4_K_M", "F16", "BF16"}) {
    SCOPED_TRACE(quant);
    const std::filesystem::path path = Export(quant, true);
    absl::StatusOr<gguf::GgufFile> file = gguf::GgufFile::Open(path);
    ASSERT_TRUE(file.ok()) << file.status();
    if (quant == "Q4_K_M") {
      // 64/128-wide rows: Q4_K -> Q5_0; Q6_K (ffn_down of layer 1, the last of 2, which
      // use_more_bits picks; the output or tied token_embd) -> Q8_0; norms F32.
      EXPECT_EQ(file->FindTensor("blk.1.attn_q.weight")->type, gguf::GgmlType::kQ5_0);
      EXPECT_EQ(file->FindTensor("blk.0.ffn_down.weight")->type, gguf::GgmlType::kQ5_0);
      EXPECT_EQ(file->FindTensor("blk.1.ffn_down.weight")->type, gguf::GgmlType::kQ8_0);
      const gguf::TensorInfo* output = file->FindTensor("output.weight");
      EXPECT_EQ((output ? output : file->FindTensor("token_embd.weight"))->type,
                gguf::GgmlType::kQ8_0);
      EXPECT_EQ(file->FindTensor("blk.0.attn_norm.weight")->type, gguf::GgmlType::kF32);
    }
    const std::vector<int64_t> got = LlamaCppGreedy(path, prompt, expected.size());
    ASSERT_EQ(got.size(), expected.size());
    size_t agree = 0;
    while (agree < got.size() && got[agree] == expected[agree]) ++agree;
    for (int64_t id : got) EXPECT_TRUE(id >= 0 && id < 512) << id;
    if (agree == got.size()) {
      std::printf("%-16s %-7s all %zu greedy tokens equal the merged f32 model's\n",
                  GetParam().c_str(), quant.c_str(), got.size());
    } else {
      std::printf("%-16s %-7s first divergence at token %zu of %zu (%lld vs %lld)\n",
                  GetParam().c_str(), quant.c_str(), agree, got.size(),
                  static_cast<long long>(got[agree]), static_cast<long long>(expected[agree]));
    }
  }
}

// Llama 3.1 rope scaling (rope_freqs tensor): tiny-llama with llama3 scaling over an original
// context of 64, decoded from an 80-token prompt so that the scaled frequencies matter.
TEST(LlamaCppRopeScalingTest, Llama3RopeFreqsMatchTuneGreedy) {
  const std::string missing = tune::testing::NodeToolsMissingReason();
  if (!missing.empty()) GTEST_SKIP() << missing;
  TempDir dir;
  const std::filesystem::path model = dir / "llama31";
  std::filesystem::create_directories(model);
  for (const char* name : {"model.safetensors", "tokenizer.model"}) {
    std::filesystem::create_symlink(FixturePath("tiny-llama") / name, model / name);
  }
  absl::StatusOr<std::string> text = core::ReadFile(FixturePath("tiny-llama") / "config.json");
  ASSERT_TRUE(text.ok()) << text.status();
  nlohmann::json config = nlohmann::json::parse(*text);
  config["rope_parameters"] = {{"rope_type", "llama3"},   {"rope_theta", 10000.0},
                               {"factor", 8.0},           {"low_freq_factor", 1.0},
                               {"high_freq_factor", 4.0}, {"original_max_position_embeddings", 64}};
  tune::testing::WriteTestFile(model / "config.json", config.dump());
  ExportOptions o;
  o.base = model;
  o.quant = "F32";
  o.out = dir / "m.gguf";
  absl::StatusOr<ExportReport> report = RunExport(o);
  ASSERT_TRUE(report.ok()) << report.status();

  std::vector<int32_t> prompt;
  for (int32_t id = 10; id < 90; ++id) prompt.push_back(id);
  model::ModelOptions options;
  options.base = model;
  absl::StatusOr<model::Transformer> m =
      model::LoadModel(options, std::nullopt, model::LoraMode::kMerged);
  ASSERT_TRUE(m.ok()) << m.status();
  const std::vector<int32_t> ours =
      model::GreedyGenerate(*m, prompt, {.max_new_tokens = 12, .stop_token = std::nullopt, .stop_after = {}});
  EXPECT_EQ(LlamaCppGreedy(o.out, std::vector<int64_t>(prompt.begin(), prompt.end()), 12),
            std::vector<int64_t>(ours.begin(), ours.end()));
}

// Byte-level BPE metadata (Qwen3's tokenizer.json on a one-layer qwen2 model with zero weights
// and Qwen's 151,936 embedding rows): llama.cpp tokenizes code, whitespace runs, CJK and CRLF
// like tune's tokenizer and finds the FIM tokens.
TEST(LlamaCppTokenizerTest, ByteLevelBpeTokenizesLikeTune) {
  const std::string missing = tune::testing::NodeToolsMissingReason();
  if (!missing.empty()) GTEST_SKIP() << missing;
  TempDir dir;
  const std::filesystem::path model = dir / "qwen-bpe";
  std::filesystem::create_directories(model);
  for (const char* name : {"tokenizer.json", "tokenizer_config.json"}) {
    std::filesystem::copy_file(FixturePath("tokenizers") / "qwen3" / name, model / name);
  }
  constexpr int64_t kVocab = 151936, kEmbd = 64, kFf = 128, kKv = 32;
  tune::testing::WriteTestFile(model / "config.json",
                               nlohmann::json{{"model_type", "qwen2"},
                                              {"hidden_size", kEmbd},
                                              {"intermediate_size", kFf},
                                              {"num_hidden_layers", 1},
                                              {"num_attention_heads", 4},
                                              {"num_key_value_heads", 2},
                                              {"vocab_size", kVocab},
                                              {"max_position_embeddings", 256},
                                              {"rms_norm_eps", 1e-6},
                                              {"rope_theta", 10000.0},
                                              {"tie_word_embeddings", true}}
                                   .dump());
  const std::vector<std::pair<std::string, std::vector<int64_t>>> shapes = {
      {"model.embed_tokens.weight", {kVocab, kEmbd}},
      {"model.norm.weight", {kEmbd}},
      {"model.layers.0.input_layernorm.weight", {kEmbd}},
      {"model.layers.0.post_attention_layernorm.weight", {kEmbd}},
      {"model.layers.0.self_attn.q_proj.weight", {kEmbd, kEmbd}},
      {"model.layers.0.self_attn.q_proj.bias", {kEmbd}},
      {"model.layers.0.self_attn.k_proj.weight", {kKv, kEmbd}},
      {"model.layers.0.self_attn.k_proj.bias", {kKv}},
      {"model.layers.0.self_attn.v_proj.weight", {kKv, kEmbd}},
      {"model.layers.0.self_attn.v_proj.bias", {kKv}},
      {"model.layers.0.self_attn.o_proj.weight", {kEmbd, kEmbd}},
      {"model.layers.0.mlp.gate_proj.weight", {kFf, kEmbd}},
      {"model.layers.0.mlp.up_proj.weight", {kFf, kEmbd}},
      {"model.layers.0.mlp.down_proj.weight", {kEmbd, kFf}}};
  const std::string zeros(kVocab * kEmbd * sizeof(float), '\0');  // backs every tensor
  formats::SafetensorsWriter writer;
  for (const auto& [name, shape] : shapes) {
    int64_t n = 1;
    for (int64_t d : shape) n *= d;
    ASSERT_TRUE(writer
                    .Add(name, formats::DType::kF32, shape,
                         std::string_view(zeros).substr(0, n * sizeof(float)))
                    .ok());
  }
  ASSERT_TRUE(writer.Write(model / "model.safetensors").ok());
  ExportOptions o;
  o.base = model;
  o.quant = "F32";
  o.out = dir / "m.gguf";
  absl::StatusOr<ExportReport> report = RunExport(o);
  ASSERT_TRUE(report.ok()) << report.status();

  const std::vector<std::string> texts = {
      "def fib(n):\n    return n if n < 2 else fib(n - 1) + fib(n - 2)\n",
      "Hello world!  \xE4\xBD\xA0\xE5\xA5\xBD\xE4\xB8\x96\xE7\x95\x8C 12345 don't",
      "\t\tx = {\"a\": [1, 2]}  # comment\r\n\n\n   }"};
  tune::testing::WriteTestFile(dir / "texts.json", nlohmann::json(texts).dump());
  const std::string cmd =
      absl::StrFormat("'%s' '%s' --model '%s' --texts '%s' 2>&1", tune::testing::NodeBinary(),
                      tune::testing::SourcePath("tests/export/llama_cpp_tokenize.mjs").string(),
                      o.out.string(), (dir / "texts.json").string());
  FILE* pipe = ::popen(cmd.c_str(), "r");
  ASSERT_NE(pipe, nullptr) << cmd;
  std::string output;
  char buf[4096];
  while (size_t got = std::fread(buf, 1, sizeof(buf), pipe)) output.append(buf, got);
  ASSERT_EQ(::pclose(pipe), 0) << cmd << "\n" << output;
  const size_t start = output.rfind("{\"tokens\"");
  ASSERT_NE(start, std::string::npos) << output;
  const nlohmann::json got = nlohmann::json::parse(output.substr(start));

  absl::StatusOr<std::unique_ptr<tokenizer::Tokenizer>> tok = tokenizer::Tokenizer::Load(model);
  ASSERT_TRUE(tok.ok()) << tok.status();
  for (size_t i = 0; i < texts.size(); ++i) {
    EXPECT_EQ(got["tokens"][i].get<std::vector<int32_t>>(), (*tok)->Encode(texts[i])) << texts[i];
  }
  const tokenizer::FimTokens& fim = (*tok)->fim();
  EXPECT_EQ(got["fim"].get<std::vector<int32_t>>(),
            (std::vector<int32_t>{*fim.prefix, *fim.suffix, *fim.middle}));
}

INSTANTIATE_TEST_SUITE_P(TinyModels, LlamaCppInteropTest,
                         ::testing::Values("tiny-llama", "tiny-qwen2", "tiny-qwen3",
                                           "tiny-starcoder2"),
                         [](const ::testing::TestParamInfo<std::string>& info) {
                           return info.param.substr(std::string_view("tiny-").size());
                         });

}  // namespace
}  // namespace tune::exporter

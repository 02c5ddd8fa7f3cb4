#include "gguf/quant_mix.h"

#include <string>
#include <vector>

#include "absl/strings/str_format.h"
#include "gtest/gtest.h"

namespace tune::gguf {
namespace {

FileType Parse(std::string_view name) {
  absl::StatusOr<FileType> t = ParseFileType(name);
  EXPECT_TRUE(t.ok()) << t.status();
  return t.value_or(FileType::kF32);
}

TEST(QuantMixTest, ParsesNamesAndListsThemOnError) {
  EXPECT_EQ(Parse("Q4_K_M"), FileType::kQ4_K_M);
  EXPECT_EQ(Parse("q5_k_m"), FileType::kQ5_K_M);
  EXPECT_EQ(static_cast<uint32_t>(Parse("BF16")), 32u);
  EXPECT_EQ(FileTypeName(FileType::kQ6_K), "Q6_K");
  absl::StatusOr<FileType> bad = ParseFileType("Q3_K_M");
  ASSERT_EQ(bad.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(bad.status().message().find("Q4_K_M"), std::string_view::npos) << bad.status();
  EXPECT_NE(bad.status().message().find("'Q3_K_M'"), std::string_view::npos) << bad.status();
}

// The layers that get Q6_K attn_v/ffn_down in Q4_K_M, from llama.cpp's use_more_bits (the
// table in gguf.md §3.4).
std::vector<int> MoreBitsLayers(FileType ftype, int n_layer, const char* tensor) {
  std::vector<int> layers;
  const ModelLayout model{n_layer, true};
  for (int i = 0; i < n_layer; ++i) {
    const std::string name = absl::StrFormat("blk.%d.%s.weight", i, tensor);
    if (TensorTypeFor(ftype, name, {4096, 4096}, model) == GgmlType::kQ6_K) layers.push_back(i);
  }
  return layers;
}

TEST(QuantMixTest, Q4KMGivesUseMoreBitsLayersQ6K) {
  EXPECT_EQ(MoreBitsLayers(FileType::kQ4_K_M, 28, "attn_v"),
            (std::vector<int>{0, 1, 2, 5, 8, 11, 14, 17, 20, 23, 24, 25, 26, 27}));
  EXPECT_EQ(MoreBitsLayers(FileType::kQ4_K_M, 32, "ffn_down"),
            (std::vector<int>{0, 1, 2, 3, 6, 9, 12, 15, 18, 21, 24, 27, 28, 29, 30, 31}));
  EXPECT_EQ(MoreBitsLayers(FileType::kQ5_K_M, 24, "attn_v"),
            (std::vector<int>{0, 1, 2, 5, 8, 11, 14, 17, 20, 21, 22, 23}));
  EXPECT_TRUE(MoreBitsLayers(FileType::kQ4_K_M, 28, "attn_q").empty());
  EXPECT_TRUE(MoreBitsLayers(FileType::kQ4_K_S, 28, "attn_v").empty());
}

TEST(QuantMixTest, PerTensorRulesFor1p5BShapes) {
  // Qwen2.5-Coder-1.5B: n_embd 1536, n_ff 8960, 28 layers, tied output.
  const ModelLayout tied{28, false};
  const FileType m = FileType::kQ4_K_M;
  EXPECT_EQ(TensorTypeFor(m, "token_embd.weight", {1536, 151936}, tied), GgmlType::kQ6_K);
  EXPECT_EQ(TensorTypeFor(m, "blk.3.attn_q.weight", {1536, 1536}, tied), GgmlType::kQ4_K);
  EXPECT_EQ(TensorTypeFor(m, "blk.3.attn_q.bias", {1536}, tied), GgmlType::kF32);
  EXPECT_EQ(TensorTypeFor(m, "blk.3.attn_norm.weight", {1536}, tied), GgmlType::kF32);
  EXPECT_EQ(TensorTypeFor(m, "blk.3.ffn_up.weight", {1536, 8960}, tied), GgmlType::kQ4_K);
  EXPECT_EQ(TensorTypeFor(m, "blk.3.ffn_down.weight", {8960, 1536}, tied), GgmlType::kQ4_K);
  EXPECT_EQ(TensorTypeFor(m, "blk.2.ffn_down.weight", {8960, 1536}, tied), GgmlType::kQ6_K);
  // DeepSeek-Coder-1.3B's ffn_down rows are 5504 long, not a multiple of 256: Q4_K falls back
  // to Q5_0, Q6_K to Q8_0, Q5_K to Q5_1.
  const ModelLayout ds{24, true};
  EXPECT_EQ(TensorTypeFor(m, "blk.3.ffn_down.weight", {5504, 2048}, ds), GgmlType::kQ5_0);
  EXPECT_EQ(TensorTypeFor(m, "blk.2.ffn_down.weight", {5504, 2048}, ds), GgmlType::kQ8_0);
  EXPECT_EQ(TensorTypeFor(FileType::kQ5_K_M, "blk.3.ffn_down.weight", {5504, 2048}, ds),
            GgmlType::kQ5_1);
  // Untied: token_embd keeps the base type, output.weight gets Q6_K.
  const ModelLayout untied{28, true};
  EXPECT_EQ(TensorTypeFor(m, "token_embd.weight", {1536, 151936}, untied), GgmlType::kQ4_K);
  EXPECT_EQ(TensorTypeFor(m, "output.weight", {1536, 151936}, untied), GgmlType::kQ6_K);
  // Qwen2.5-0.5B's 896-wide output: not a multiple of 256 -> Q8_0.
  EXPECT_EQ(TensorTypeFor(m, "output.weight", {896, 151936}, untied), GgmlType::kQ8_0);
  // Rows no quant block divides end as F16.
  EXPECT_EQ(TensorTypeFor(m, "blk.3.attn_q.weight", {100, 64}, tied), GgmlType::kF16);
}

TEST(QuantMixTest, UniformFileTypes) {
  const ModelLayout untied{2, true};
  EXPECT_EQ(TensorTypeFor(FileType::kQ8_0, "output.weight", {4096, 10}, untied), GgmlType::kQ8_0);
  EXPECT_EQ(TensorTypeFor(FileType::kQ4_0, "output.weight", {4096, 10}, untied), GgmlType::kQ6_K);
  EXPECT_EQ(TensorTypeFor(FileType::kQ4_0, "blk.0.ffn_down.weight", {4096, 10}, untied),
            GgmlType::kQ4_0);
  EXPECT_EQ(TensorTypeFor(FileType::kF16, "blk.0.attn_k.weight", {64, 64}, untied), GgmlType::kF16);
  EXPECT_EQ(TensorTypeFor(FileType::kBF16, "output.weight", {64, 64}, untied), GgmlType::kBF16);
  EXPECT_EQ(TensorTypeFor(FileType::kF16, "output_norm.weight", {64}, untied), GgmlType::kF32);
  EXPECT_EQ(TensorTypeFor(FileType::kQ4_K_S, "blk.0.ffn_down.weight", {4096, 10}, {16, true}),
            GgmlType::kQ5_K);
  EXPECT_EQ(TensorTypeFor(FileType::kQ4_K_S, "blk.2.ffn_down.weight", {4096, 10}, {16, true}),
            GgmlType::kQ4_K);
}

}  // namespace
}  // namespace tune::gguf

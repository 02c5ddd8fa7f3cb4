#include "gguf/arch.h"

#include <numeric>
#include <string>
#include <vector>

#include "gtest/gtest.h"

namespace tune::gguf {
namespace {

std::string Name(Arch arch, std::string_view hf) {
  absl::StatusOr<std::optional<std::string>> name = GgufTensorName(arch, hf);
  EXPECT_TRUE(name.ok()) << name.status();
  return name.ok() && name->has_value() ? **name : "<skipped>";
}

TEST(ArchTest, MapsHuggingFaceNames) {
  EXPECT_EQ(Name(Arch::kLlama, "model.embed_tokens.weight"), "token_embd.weight");
  EXPECT_EQ(Name(Arch::kLlama, "lm_head.weight"), "output.weight");
  EXPECT_EQ(Name(Arch::kStarcoder2, "model.norm.bias"), "output_norm.bias");
  EXPECT_EQ(Name(Arch::kQwen2, "model.layers.17.self_attn.k_proj.bias"), "blk.17.attn_k.bias");
  EXPECT_EQ(Name(Arch::kLlama, "model.layers.0.post_attention_layernorm.weight"),
            "blk.0.ffn_norm.weight");
  EXPECT_EQ(Name(Arch::kQwen3, "model.layers.2.self_attn.q_norm.weight"),
            "blk.2.attn_q_norm.weight");
  EXPECT_EQ(Name(Arch::kStarcoder2, "model.layers.1.mlp.c_fc.weight"), "blk.1.ffn_up.weight");
  EXPECT_EQ(Name(Arch::kStarcoder2, "model.layers.1.mlp.c_proj.bias"), "blk.1.ffn_down.bias");
  EXPECT_EQ(Name(Arch::kLlama, "model.layers.1.mlp.down_proj.weight"), "blk.1.ffn_down.weight");
  EXPECT_EQ(Name(Arch::kLlama, "model.layers.0.self_attn.rotary_emb.inv_freq"), "<skipped>");
}

TEST(ArchTest, RejectsTensorsTheArchitectureHasNoSlotFor) {
  for (auto [arch, hf] : std::vector<std::pair<Arch, std::string>>{
           {Arch::kLlama, "model.layers.0.self_attn.q_norm.weight"},
           {Arch::kStarcoder2, "model.layers.0.mlp.gate_proj.weight"},
           {Arch::kQwen2, "model.layers.x.mlp.up_proj.weight"},
           {Arch::kQwen2, "vision_tower.patch_embed.weight"}}) {
    absl::StatusOr<std::optional<std::string>> name = GgufTensorName(arch, hf);
    EXPECT_EQ(name.status().code(), absl::StatusCode::kInvalidArgument) << hf;
    EXPECT_NE(std::string(name.status().message()).find(hf), std::string::npos);
  }
  EXPECT_EQ(ArchFromModelType("qwen3").value(), Arch::kQwen3);
  absl::Status bad = ArchFromModelType("mistral").status();
  EXPECT_EQ(bad.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(std::string(bad.message()).find("starcoder2"), std::string::npos) << bad;
}

TEST(ArchTest, MetadataKeysAndTypes) {
  HParams hp{28, 32768, 1536, 8960, 12, 2, 128, 151936, 1e6f, 1e-6f};
  GgufWriter w;
  ASSERT_TRUE(SetArchMetadata(w, Arch::kQwen2, hp).ok());
  std::map<std::string, Value> kv;
  for (const KeyValue& e : w.metadata()) kv[e.key] = e.value;
  EXPECT_EQ(kv.at("general.architecture"), Value(std::string("qwen2")));
  EXPECT_EQ(kv.at("qwen2.block_count"), Value(uint32_t{28}));
  EXPECT_EQ(kv.at("qwen2.attention.head_count_kv"), Value(uint32_t{2}));
  EXPECT_EQ(kv.at("qwen2.rope.freq_base"), Value(1e6f));
  EXPECT_EQ(kv.at("qwen2.attention.layer_norm_rms_epsilon"), Value(1e-6f));
  GgufWriter sc;
  ASSERT_TRUE(SetArchMetadata(sc, Arch::kStarcoder2, hp).ok());
  bool has_ln_eps = false;
  for (const KeyValue& e : sc.metadata()) {
    has_ln_eps |= e.key == "starcoder2.attention.layer_norm_epsilon";
    EXPECT_NE(e.key, "starcoder2.attention.layer_norm_rms_epsilon");
  }
  EXPECT_TRUE(has_ln_eps);
  hp.n_head_kv = 5;
  EXPECT_EQ(SetArchMetadata(w, Arch::kQwen2, hp).code(), absl::StatusCode::kInvalidArgument);
}

TEST(ArchTest, PermutesOnlyLlamaQK) {
  const HParams hp{2, 256, 64, 128, 4, 2, 16, 512, 1e4f, 1e-5f};
  EXPECT_EQ(QkPermuteHeads(Arch::kLlama, "blk.0.attn_q.weight", hp), 4);
  EXPECT_EQ(QkPermuteHeads(Arch::kLlama, "blk.0.attn_k.bias", hp), 2);
  EXPECT_EQ(QkPermuteHeads(Arch::kLlama, "blk.0.attn_k.weight.lora_b", hp), 2);
  EXPECT_EQ(QkPermuteHeads(Arch::kLlama, "blk.0.attn_v.weight", hp), 0);
  EXPECT_EQ(QkPermuteHeads(Arch::kQwen2, "blk.0.attn_q.weight", hp), 0);

  // One head of 8 rows, 1 column: HF pairs (0,4) (1,5) (2,6) (3,7) become adjacent.
  std::vector<float> in(16);
  std::iota(in.begin(), in.end(), 0.0f);
  std::vector<float> out(16);
  PermuteQkRows(in, 8, 2, 1, out);
  EXPECT_EQ(out, (std::vector<float>{0, 1, 8, 9, 2, 3, 10, 11, 4, 5, 12, 13, 6, 7, 14, 15}));
}

}  // namespace
}  // namespace tune::gguf

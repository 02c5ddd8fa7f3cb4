#include "model/model_config.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cmath>

namespace tune::model {
namespace {

using ::testing::HasSubstr;

constexpr char kLlama3[] = R"({
  "model_type": "llama", "vocab_size": 128256, "hidden_size": 4096, "intermediate_size": 14336,
  "num_hidden_layers": 32, "num_attention_heads": 32, "num_key_value_heads": 8,
  "rms_norm_eps": 1e-5, "rope_theta": 500000.0, "tie_word_embeddings": false,
  "rope_scaling": {"factor": 8.0, "low_freq_factor": 1.0, "high_freq_factor": 4.0,
                   "original_max_position_embeddings": 8192, "rope_type": "llama3"},
  "bos_token_id": 128000, "eos_token_id": [128001, 128008, 128009]})";

TEST(ModelConfigTest, ParsesLlama3WithRopeScalingAtTopLevel) {
  auto c = ParseModelConfig(kLlama3, "config.json");
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->arch, Arch::kLlama);
  EXPECT_EQ(c->head_dim, 128);
  EXPECT_EQ(c->num_kv_heads, 8);
  EXPECT_DOUBLE_EQ(c->rope.theta, 500000.0);
  EXPECT_EQ(c->rope.scaling, RopeScaling::kLlama3);
  EXPECT_DOUBLE_EQ(c->rope.factor, 8.0);
  EXPECT_EQ(c->eos_token_id, 128001);
  EXPECT_FALSE(c->tie_word_embeddings);
}

TEST(ModelConfigTest, DeepSeekCoderLinearScaling) {
  auto c = ParseModelConfig(R"({"model_type":"llama","vocab_size":32256,"hidden_size":4096,
    "intermediate_size":11008,"num_hidden_layers":32,"num_attention_heads":32,
    "rope_theta":100000,"rope_scaling":{"type":"linear","factor":4.0}})", "config.json");
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->rope.scaling, RopeScaling::kLinear);
  EXPECT_DOUBLE_EQ(c->rope.factor, 4.0);
  EXPECT_DOUBLE_EQ(c->rope.theta, 100000.0);
  EXPECT_EQ(c->num_kv_heads, 32);
}

TEST(ModelConfigTest, Qwen2HasQkvBiasOnly) {
  auto c = ParseModelConfig(R"({"model_type":"qwen2","vocab_size":151936,"hidden_size":1536,
    "intermediate_size":8960,"num_hidden_layers":28,"num_attention_heads":12,
    "num_key_value_heads":2,"rope_theta":1000000.0,"sliding_window":131072,
    "use_sliding_window":false,"tie_word_embeddings":true})", "config.json");
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_TRUE(c->attention_bias);
  EXPECT_FALSE(c->attention_out_bias);
  EXPECT_FALSE(c->sliding_window.has_value());
}

TEST(ModelConfigTest, Starcoder2AppliesItsSlidingWindow) {
  auto c = ParseModelConfig(R"({"model_type":"starcoder2","vocab_size":49152,"hidden_size":3072,
    "intermediate_size":12288,"num_hidden_layers":30,"num_attention_heads":24,
    "num_key_value_heads":2,"rope_theta":999999.4,"sliding_window":4096,"use_bias":true,
    "norm_epsilon":1e-5,"hidden_act":"gelu_pytorch_tanh"})", "config.json");
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->sliding_window, 4096);
  EXPECT_TRUE(c->uses_layer_norm());
  EXPECT_TRUE(c->mlp_bias && c->attention_out_bias);
}

TEST(ModelConfigTest, ErrorsNameTheFieldAndTheFile) {
  auto unknown = ParseModelConfig(R"({"model_type":"gpt2"})", "dir/config.json");
  EXPECT_EQ(unknown.status().code(), absl::StatusCode::kUnimplemented);
  EXPECT_THAT(std::string(unknown.status().message()), HasSubstr("dir/config.json"));
  EXPECT_THAT(std::string(unknown.status().message()), HasSubstr("gpt2"));

  auto missing = ParseModelConfig(R"({"model_type":"llama","vocab_size":10})", "c.json");
  EXPECT_EQ(missing.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(missing.status().message()), HasSubstr("hidden_size"));

  auto heads = ParseModelConfig(R"({"model_type":"llama","vocab_size":10,"hidden_size":64,
    "intermediate_size":8,"num_hidden_layers":1,"num_attention_heads":4,"num_key_value_heads":3})", "c.json");
  EXPECT_THAT(std::string(heads.status().message()), HasSubstr("multiple of num_key_value_heads"));

  auto rope = ParseModelConfig(R"({"model_type":"llama","vocab_size":10,"hidden_size":64,
    "intermediate_size":8,"num_hidden_layers":1,"num_attention_heads":4,
    "rope_scaling":{"rope_type":"yarn","factor":4}})", "c.json");
  EXPECT_EQ(rope.status().code(), absl::StatusCode::kUnimplemented);
  EXPECT_THAT(std::string(rope.status().message()), HasSubstr("yarn"));

  EXPECT_EQ(ParseModelConfig("not json", "c.json").status().code(), absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace tune::model

// The hyperparameters of a decoder-only transformer, read from a Hugging Face `config.json`.
//
// Four architectures share one forward pass (model/transformer.h) and differ only in the
// switches below:
//   llama       Llama 2/3, CodeLlama, DeepSeek-Coder 1.x: RMSNorm, SwiGLU, optional biases
//   qwen2       Qwen2/2.5(-Coder): llama + q/k/v bias
//   qwen3       llama + RMSNorm on q and k per head, explicit head_dim
//   starcoder2  LayerNorm with bias, GELU-tanh MLP (c_fc, c_proj), biases everywhere
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>

#include "absl/status/statusor.h"

namespace tune::model {

enum class Arch { kLlama, kQwen2, kQwen3, kStarcoder2 };

// "llama", "qwen2", "qwen3", "starcoder2" (HF's model_type).
std::string ArchName(Arch arch);

enum class RopeScaling {
  kNone,    // rope_type "default"
  kLinear,  // positions divided by `factor` (DeepSeek-Coder 1.x)
  kLlama3,  // frequency-dependent scaling of Llama 3.1+
};

struct RopeConfig {
  double theta = 10000.0;
  RopeScaling scaling = RopeScaling::kNone;
  double factor = 1.0;
  // Llama-3 scaling only.
  double low_freq_factor = 1.0;
  double high_freq_factor = 4.0;
  int64_t original_max_position_embeddings = 8192;
};

struct ModelConfig {
  Arch arch = Arch::kLlama;
  int64_t vocab_size = 0;
  int64_t hidden_size = 0;
  int64_t intermediate_size = 0;
  int64_t num_layers = 0;
  int64_t num_heads = 0;
  int64_t num_kv_heads = 0;  // < num_heads: grouped-query attention
  int64_t head_dim = 0;      // hidden_size / num_heads unless config.json says otherwise
  int64_t max_position_embeddings = 0;
  double norm_eps = 1e-5;
  RopeConfig rope;
  bool tie_word_embeddings = false;
  bool attention_bias = false;    // q, k, v (and o for starcoder2) carry a bias
  bool attention_out_bias = false;
  bool mlp_bias = false;
  std::optional<int64_t> sliding_window;  // tokens a query may look back, where enabled
  std::optional<int32_t> bos_token_id;
  std::optional<int32_t> eos_token_id;

  bool uses_layer_norm() const { return arch == Arch::kStarcoder2; }
  bool uses_qk_norm() const { return arch == Arch::kQwen3; }
  bool uses_gated_mlp() const { return arch != Arch::kStarcoder2; }
};

// Parses `<dir>/config.json`. Accepts `rope_theta`/`rope_scaling` at the top level (most hub
// checkpoints) and transformers-5's `rope_parameters`. Unimplemented for an architecture or
// rope type tune does not run; InvalidArgument naming the field for missing or inconsistent
// values.
absl::StatusOr<ModelConfig> LoadModelConfig(const std::filesystem::path& dir);
absl::StatusOr<ModelConfig> ParseModelConfig(std::string_view json_text, std::string_view origin);

}  // namespace tune::model

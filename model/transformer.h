// A decoder-only transformer (llama, qwen2, qwen3, starcoder2) as plain tensors and one
// readable forward pass, in the spirit of gpt-fast's model file.
//
// Weights live in `Linear`/`Norm` structs named after their Hugging Face modules, so LoRA
// adapters (model/lora.h), training and export address them by the same names PEFT and
// transformers use (`model.layers.3.self_attn.q_proj`). The forward pass is autograd-aware:
// tensors with requires_grad (LoRA A/B during training) receive gradients.
#pragma once

#include <ATen/core/Tensor.h>

#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "model/model_config.h"
#include "model/nf4_weight.h"

namespace tune::model {

// y = x W^T + b, plus the low-rank update scale * (x A^T) B^T when an adapter is attached
// unmerged. weight: (out, in); bias: (out) or undefined; lora_a: (r, in); lora_b: (out, r).
struct Linear {
  at::Tensor weight;                      // undefined when the weight is held in NF4
  std::shared_ptr<const Nf4Weight> nf4;   // QLoRA: the frozen 4-bit weight, (out, in)
  int64_t out_features = 0;
  int64_t in_features = 0;
  at::Tensor bias;
  at::Tensor lora_a;
  at::Tensor lora_b;
  double lora_scale = 0.0;
  double lora_dropout = 0.0;  // on the adapter's input, in training mode only (as PEFT)
};

// RMSNorm (weight only) or LayerNorm (weight and bias).
struct Norm {
  at::Tensor weight;
  at::Tensor bias;
};

struct Layer {
  Norm attn_norm;
  Norm mlp_norm;
  Norm q_norm;  // qwen3: RMSNorm over head_dim, applied to q per head
  Norm k_norm;
  Linear q, k, v, o;
  Linear gate;  // gated MLP only (llama, qwen2, qwen3)
  Linear up;    // starcoder2: c_fc
  Linear down;  // starcoder2: c_proj
};

// The keys and values of past tokens, for incremental decoding. Preallocated for
// `max_tokens` positions per sequence; Forward appends to it.
class KvCache {
 public:
  KvCache(const ModelConfig& config, int64_t batch, int64_t max_tokens,
          const at::TensorOptions& options);
  int64_t length() const { return length_; }
  int64_t capacity() const { return capacity_; }

 private:
  friend class Transformer;
  std::vector<at::Tensor> k_;  // per layer: (B, n_kv_heads, max_tokens, head_dim)
  std::vector<at::Tensor> v_;
  int64_t length_ = 0;
  int64_t capacity_ = 0;
};

// A Linear with the Hugging Face module name it was loaded from.
struct NamedLinear {
  std::string name;  // e.g. "model.layers.0.mlp.down_proj"
  Linear* linear;
};

class Transformer {
 public:
  struct LoadOptions {
    at::ScalarType dtype = at::kFloat;  // compute dtype of the weights (f32, bf16, f16)
    // Quantize every projection weight to NF4 as it is read (QLoRA): host memory stays near
    // the 4-bit size plus one tensor; embeddings, norms and biases keep `dtype`.
    bool quantize_nf4 = false;
    // Where the weights live. Each tensor is converted (and quantized) on the host and moved
    // there as soon as it is read, so host memory holds one tensor at a time beyond the
    // memory-mapped files; a CUDA device needs TUNE_TORCH_CUDA (model/device.h).
    c10::Device device = c10::kCPU;
  };

  // Reads config.json and model.safetensors (or the shards of model.safetensors.index.json)
  // from a Hugging Face model directory. The files are memory-mapped and converted tensor by
  // tensor, so peak memory is the loaded model plus one tensor. NotFound / DataLoss /
  // Unimplemented name the file and tensor; a missing or misshapen tensor is DataLoss.
  static absl::StatusOr<Transformer> Load(const std::filesystem::path& dir,
                                          const LoadOptions& options);

  // ids: (B, T) int64 on device() -> logits (B, T, vocab_size) f32. With a cache, the T tokens
  // follow the cache's length() tokens and are appended to it.
  at::Tensor Forward(const at::Tensor& ids, KvCache* cache = nullptr) const;
  // The same up to the final norm: (B, T, hidden_size), in the weights' dtype.
  at::Tensor Hidden(const at::Tensor& ids, KvCache* cache = nullptr) const;

  // Training forward over packed sequences, up to the final norm. ids, positions, segments:
  // (B, T) int64 on device(); a token attends only to earlier tokens of its own segment
  // (document), and positions restart at each document, so packing leaks nothing across
  // documents.
  // checkpoint: recompute each layer in backward instead of keeping its activations
  // (the model must outlive backward()).
  at::Tensor HiddenPacked(const at::Tensor& ids, const at::Tensor& positions,
                          const at::Tensor& segments, bool checkpoint) const;

  // hidden (..., hidden_size) -> logits (..., vocab_size) f32.
  at::Tensor Logits(const at::Tensor& hidden) const;
  // The output projection (vocab_size, hidden_size), for losses that chunk over the vocabulary.
  const at::Tensor& lm_head() const { return lm_head_; }

  // Training mode turns LoRA dropout on. Off after Load().
  void set_training(bool training) { training_ = training; }

  const ModelConfig& config() const { return config_; }
  at::ScalarType dtype() const { return embed_.scalar_type(); }
  c10::Device device() const { return embed_.device(); }
  // Every projection, by Hugging Face module name (attention, then MLP, layer by layer).
  std::vector<NamedLinear> Linears();
  // Every dense tensor of the model by its Hugging Face name (embeddings, norms, projection
  // weights and biases, lm_head unless tied), for full-parameter training and saving; NF4
  // weights are not dense and not listed.
  std::vector<std::pair<std::string, at::Tensor*>> DenseParameters();

  // One transformer layer; public for the checkpointing autograd function.
  // rope: cos and sin (B or 1, T, head_dim); masked: (B or 1, 1, T, S) true where a query
  // may not attend.
  at::Tensor Block(int64_t index, const at::Tensor& x, const at::Tensor& cos, const at::Tensor& sin,
                   const at::Tensor& masked, KvCache* cache) const;

 private:
  at::Tensor Attention(const Layer& layer, int64_t index, const at::Tensor& x,
                       const at::Tensor& cos, const at::Tensor& sin, const at::Tensor& masked,
                       KvCache* cache) const;
  at::Tensor Mlp(const Layer& layer, const at::Tensor& x) const;
  at::Tensor ApplyNorm(const Norm& norm, const at::Tensor& x) const;
  at::Tensor Project(const Linear& linear, const at::Tensor& x) const;
  // positions: (B or 1, T) -> cos, sin (B or 1, T, head_dim) f32.
  std::pair<at::Tensor, at::Tensor> Rope(const at::Tensor& positions) const;

  ModelConfig config_;
  at::Tensor embed_;    // (vocab, hidden)
  at::Tensor lm_head_;  // (vocab, hidden); the same tensor as embed_ when tied
  std::vector<Layer> layers_;
  Norm final_norm_;
  at::Tensor inv_freq_;  // (head_dim / 2) f32 rotary frequencies, scaling applied
  bool training_ = false;
};

// The weight as a dense (out, in) tensor of `dtype`: the stored one, or NF4 dequantized.
at::Tensor DenseWeight(const Linear& linear, at::ScalarType dtype);

// Applies the linear layer with its attached LoRA update. x: (..., in) -> (..., out).
// training: apply the adapter's dropout.
at::Tensor ApplyLinear(const Linear& linear, const at::Tensor& x, bool training = false);

}  // namespace tune::model

// How much GPU memory QLoRA training of a model takes, estimated from its shape, so `tune doctor`
// can recommend a base model, LoRA rank and sequence length that fit a card. An estimate, not a
// measurement: it counts what tune's trainer holds (docs/training.md) and adds a margin.
//
//   NF4 base projections      0.5 byte/param + block scales (double-quantized: ~1/64 byte/param)
//   embeddings, lm_head       bf16 (lm_head shares the embedding when tied)
//   LoRA adapters             r x (in + out) per target; f32 master, gradient, AdamW m and v: 16 B
//   activations               gradient checkpointing: each layer's bf16 input kept
//                             (batch x seq x hidden), plus one layer recomputed at a time
//   loss                      one chunk of loss_chunk tokens x vocab logits and their gradient, f32
//   runtime                   CUDA context and allocator slack: 0.75 GiB + 10 %
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace tune::doctor {

struct ModelShape {
  std::string name;     // "Qwen2.5-Coder-7B"
  std::string hf_id;    // "Qwen/Qwen2.5-Coder-7B"
  int64_t layers = 0, hidden = 0, intermediate = 0, heads = 0, kv_heads = 0, vocab = 0;
  bool tied_embeddings = false;
  double params_b = 0;  // billions, as the family names it
};

// Qwen2.5-Coder 0.5B .. 32B (their config.json values), smallest first: tune's default family.
const std::vector<ModelShape>& QwenCoderShapes();

struct TrainShape {
  int64_t seq_len = 2048;
  int64_t batch = 1;
  int64_t rank = 16;
  int64_t loss_chunk = 1024;
};

struct MemoryEstimate {
  double weights_gb = 0, adapters_gb = 0, activations_gb = 0, loss_gb = 0, runtime_gb = 0;
  double total_gb() const { return weights_gb + adapters_gb + activations_gb + loss_gb + runtime_gb; }
};

MemoryEstimate EstimateQLoRA(const ModelShape& model, const TrainShape& train);

// GGUF file size at a quantization (bits per weight of llama.cpp's mixes: Q8_0 8.5, Q4_K_M ~4.9).
double ServedSizeGb(const ModelShape& model, const std::string& quant);

struct Recommendation {
  ModelShape model;
  TrainShape train;
  MemoryEstimate memory;
  std::string quant;  // for serving
};

// The largest model (then longest sequence, then rank) whose estimate fits `free_gb` of GPU
// memory; nullopt when not even the smallest fits at 1024 tokens.
std::optional<Recommendation> Recommend(double free_gb);

}  // namespace tune::doctor

// Full-parameter training of a small model from scratch-like weights: every dense tensor
// (embeddings, norms, projections, lm_head) learns, in f32, with AdamW and the warm-up + cosine
// schedule, on a dataset's train split. What makes the embedded default's random tiny model a
// (tiny) code model before it is LoRA-tuned on a repository: `tune debug pretrain`.
//
// Memory: the model, its gradients and AdamW's two moments (4 copies, f32), plus activations and
// the full (tokens x vocab) logits of one micro-batch (no checkpointing, no loss chunks). Meant
// for models of a few million parameters on a CPU.
#pragma once

#include <cstdint>
#include <filesystem>

#include "absl/status/statusor.h"

namespace tune::train {

struct PretrainOptions {
  std::filesystem::path base;  // Hugging Face directory to start from (config, weights, tokenizer)
  std::filesystem::path data;  // `tune ingest` dataset
  std::filesystem::path out;   // written: config.json, model.safetensors, tokenizer files
  int64_t steps = 300;
  int64_t batch_size = 8;
  int64_t seq_len = 256;
  double lr = 3e-3;
  int64_t warmup_steps = 20;
  uint64_t seed = 0;
  int64_t threads = 0;  // 0 = all cores
  bool progress = true;
};

struct PretrainReport {
  int64_t steps = 0;
  int64_t tokens = 0;
  double seconds = 0;
  double first_loss = 0, last_loss = 0;                  // training batches
  double held_out_before = 0, held_out_after = 0;         // eval split (0 without one)
};

absl::StatusOr<PretrainReport> Pretrain(const PretrainOptions& options);

}  // namespace tune::train

// The [train] section of a tune config: every knob of `tune train`, with its default.
// docs/config.md lists them; ParseTrainOptions rejects unknown keys and out-of-range values.
#pragma once

#include <cstdint>
#include <string>

#include "absl/status/statusor.h"
#include "core/config.h"

namespace tune::train {

struct TrainOptions {
  int64_t steps = 200;             // optimizer steps
  int64_t batch_size = 1;          // packed sequences per micro-batch
  int64_t seq_len = 512;           // tokens per packed sequence
  int64_t grad_accum = 1;          // micro-batches per optimizer step (per process)
  double lr = 2e-4;                // peak learning rate
  double lr_min_ratio = 0.1;       // cosine decays to lr * lr_min_ratio
  int64_t warmup_steps = 10;       // linear warm-up from 0
  double weight_decay = 0.0;       // AdamW decoupled decay on the adapters
  double beta1 = 0.9;
  double beta2 = 0.999;
  double eps = 1e-8;
  double max_grad_norm = 1.0;      // global-norm clipping; 0 turns it off
  int64_t eval_every = 50;         // steps between held-out evaluations; 0: only at the end
  int64_t eval_batches = 8;        // micro-batches per evaluation
  int64_t save_every = 50;         // steps between checkpoints; 0: only at the end
  int64_t log_every = 1;           // steps between metrics lines
  int64_t seed = 42;               // adapter init, data order, dropout
  std::string quantize = "nf4";    // base weights: "nf4" (QLoRA) or "none" (LoRA on the dtype)
  bool grad_checkpointing = true;  // recompute each layer in backward
  int64_t loss_chunk = 1024;       // tokens per chunk of the output projection in the loss
  std::string device = "auto";     // "auto" (CUDA if present), "cpu", "cuda", "cuda:N"
  std::string compute_dtype = "auto";  // "auto" (bf16 on CUDA, f32 on CPU), "f32", "bf16"
  bool optimizer_offload = false;  // AdamW moments and master weights in host memory
};

absl::StatusOr<TrainOptions> ParseTrainOptions(const core::Config& config);

}  // namespace tune::train

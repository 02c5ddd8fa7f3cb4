// AdamW over the LoRA adapters, and the warm-up + cosine learning-rate schedule.
// Written out rather than taken from torch::optim so that its state is plain named tensors
// that checkpoints store and restore exactly.
#pragma once

#include <ATen/core/Tensor.h>

#include <cstdint>
#include <string>
#include <vector>

namespace tune::train {

struct AdamWOptions {
  double beta1 = 0.9;
  double beta2 = 0.999;
  double eps = 1e-8;
  double weight_decay = 0.0;
  // Keep the moments and f32 master weights in host memory (pinned when the params are on
  // CUDA): each step copies the gradients down, updates on the host and copies the params up,
  // trading transfer time for device memory (3 f32 values per trainable parameter).
  bool offload = false;
};

// The update runs in f32 whatever the params' dtype: a bf16 param (lora.dtype = "bf16") gets an
// f32 master copy that takes the updates, so steps below bf16's resolution (1/256 relative)
// accumulate instead of rounding away; the param is the master rounded after every step.
class AdamW {
 public:
  // params: the trainable tensors by name (f32 or bf16, requires_grad), all on one device.
  AdamW(std::vector<std::pair<std::string, at::Tensor>> params, const AdamWOptions& options);

  // One update with learning rate `lr` from the params' .grad(); tensors without a grad are
  // skipped. Increments step().
  void Step(double lr);
  void ZeroGrad();
  int64_t step() const { return step_; }

  // The state as named tensors ("<name>.exp_avg", "<name>.exp_avg_sq", and "<name>.master" for
  // params that are not f32) plus the step count. Independent of `offload`.
  std::vector<std::pair<std::string, at::Tensor>> State() const;
  // Restores State(); call it after the params themselves were restored (an f32 param is its
  // own master). False if a name is missing or a shape differs.
  bool Restore(const std::vector<std::pair<std::string, at::Tensor>>& state, int64_t step);

  const std::vector<std::pair<std::string, at::Tensor>>& params() const { return params_; }

 private:
  std::vector<std::pair<std::string, at::Tensor>> params_;
  std::vector<at::Tensor> exp_avg_;     // f32, on the params' device or pinned host memory
  std::vector<at::Tensor> exp_avg_sq_;
  std::vector<at::Tensor> master_;      // f32 copy that takes the update; undefined: the param
                                        // itself (f32 and not offloaded)
  AdamWOptions options_;
  int64_t step_ = 0;
};

// Learning rate at optimizer step `step` (0-based): linear warm-up from 0 to `peak` over
// `warmup` steps, then cosine decay to peak * min_ratio at `total`.
double LearningRate(int64_t step, int64_t total, int64_t warmup, double peak, double min_ratio);

// Scales the grads so that their global L2 norm is at most max_norm (if max_norm > 0);
// returns the norm before clipping.
double ClipGradNorm(const std::vector<std::pair<std::string, at::Tensor>>& params, double max_norm);

}  // namespace tune::train

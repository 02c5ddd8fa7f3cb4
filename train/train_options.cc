#include "train/train_options.h"

#include "absl/strings/str_format.h"
#include "core/status.h"
#include "model/device.h"

namespace tune::train {

absl::StatusOr<TrainOptions> ParseTrainOptions(const core::Config& config) {
  TrainOptions o;
  core::SectionReader r(config, "train");
  constexpr int64_t kBig = int64_t{1} << 40;
  TUNE_RETURN_IF_ERROR(r.Read("steps", o.steps, 1, kBig));
  TUNE_RETURN_IF_ERROR(r.Read("batch_size", o.batch_size, 1, 4096));
  TUNE_RETURN_IF_ERROR(r.Read("seq_len", o.seq_len, 2, 1 << 20));
  TUNE_RETURN_IF_ERROR(r.Read("grad_accum", o.grad_accum, 1, 1 << 16));
  TUNE_RETURN_IF_ERROR(r.Read("lr", o.lr, 0.0, 1.0));
  TUNE_RETURN_IF_ERROR(r.Read("lr_min_ratio", o.lr_min_ratio, 0.0, 1.0));
  TUNE_RETURN_IF_ERROR(r.Read("warmup_steps", o.warmup_steps, 0, kBig));
  TUNE_RETURN_IF_ERROR(r.Read("weight_decay", o.weight_decay, 0.0, 10.0));
  TUNE_RETURN_IF_ERROR(r.Read("beta1", o.beta1, 0.0, 0.999999));
  TUNE_RETURN_IF_ERROR(r.Read("beta2", o.beta2, 0.0, 0.999999999));
  TUNE_RETURN_IF_ERROR(r.Read("eps", o.eps, 1e-30, 1.0));
  TUNE_RETURN_IF_ERROR(r.Read("max_grad_norm", o.max_grad_norm, 0.0, 1e9));
  TUNE_RETURN_IF_ERROR(r.Read("eval_every", o.eval_every, 0, kBig));
  TUNE_RETURN_IF_ERROR(r.Read("eval_batches", o.eval_batches, 0, 1 << 20));
  TUNE_RETURN_IF_ERROR(r.Read("save_every", o.save_every, 0, kBig));
  TUNE_RETURN_IF_ERROR(r.Read("log_every", o.log_every, 1, kBig));
  TUNE_RETURN_IF_ERROR(r.Read("seed", o.seed, 0, kBig));
  TUNE_RETURN_IF_ERROR(r.ReadChoice("quantize", o.quantize, {"nf4", "none"}));
  TUNE_RETURN_IF_ERROR(r.Read("grad_checkpointing", o.grad_checkpointing));
  TUNE_RETURN_IF_ERROR(r.Read("loss_chunk", o.loss_chunk, 1, 1 << 24));
  TUNE_RETURN_IF_ERROR(r.Read("device", o.device));
  if (!model::IsDeviceSpec(o.device)) {
    return absl::InvalidArgumentError(absl::StrFormat("%s: train.device must be one of %s, got \"%s\"",
                                                      config.origin(), model::kDeviceSpecs, o.device));
  }
  TUNE_RETURN_IF_ERROR(r.ReadChoice("compute_dtype", o.compute_dtype, model::kComputeDTypeNames));
  TUNE_RETURN_IF_ERROR(r.Read("optimizer_offload", o.optimizer_offload));
  TUNE_RETURN_IF_ERROR(r.Finish());
  return o;
}

}  // namespace tune::train

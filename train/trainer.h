// `tune train`: QLoRA/LoRA fine-tuning of a Hugging Face model on a `tune ingest` dataset.
//
// One explicit loop (torchtune's recipe style): load the base, attach fresh adapters (or an
// earlier run's, --init-adapter), then per
// step take grad_accum packed micro-batches, run forward with per-layer recomputation and the
// chunked loss, all-reduce the adapter gradients across processes, clip, AdamW with warm-up +
// cosine; evaluate on the held-out split every eval_every steps and checkpoint every
// save_every. Runs are seed-deterministic: on CPU a resumed run reproduces the uninterrupted
// one's losses exactly.
//
// <out>/ gets: adapter_config.json + adapter_model.safetensors (PEFT; `--adapter <out>` works
// everywhere), metrics.jsonl (one object per logged step), run.json (settings, data, result),
// checkpoints/ (see train/checkpoint.h).
#pragma once

#include <filesystem>
#include <optional>
#include <string>

#include "absl/status/statusor.h"
#include "model/lora.h"
#include "model/model_options.h"
#include "train/train_options.h"

namespace tune::train {

struct TrainRequest {
  model::ModelOptions model;
  model::LoraOptions lora;
  TrainOptions train;
  std::filesystem::path data;  // dataset directory from `tune ingest`
  std::filesystem::path out;
  bool resume = false;         // continue from <out>/checkpoints/latest
  // A PEFT adapter directory to start from instead of fresh adapters (model::WarmStartLora);
  // empty: fresh. Optimizer state and the schedule start anew.
  std::filesystem::path init_adapter;
};

struct TrainReport {
  int64_t steps = 0;
  double final_loss = 0;                 // mean train loss of the last step
  std::optional<double> initial_eval_loss;  // before the first step (fresh runs only)
  std::optional<double> final_eval_loss;
  int64_t tokens = 0;                    // target tokens trained on (all processes)
};

// Cancelled when interrupted by SIGINT/SIGTERM (a checkpoint is saved first);
// FailedPrecondition when --resume finds a checkpoint of different settings.
absl::StatusOr<TrainReport> RunTraining(const TrainRequest& request);

}  // namespace tune::train

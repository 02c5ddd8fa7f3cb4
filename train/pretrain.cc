#include "train/pretrain.h"

#include <ATen/ATen.h>

#include <chrono>
#include <optional>

#include "absl/strings/str_format.h"
#include "core/file.h"
#include "core/progress.h"
#include "core/status.h"
#include "model/model_options.h"
#include "model/tensor_io.h"
#include "model/torch_status.h"
#include "train/batcher.h"
#include "train/heldout_loss.h"
#include "train/optimizer.h"

namespace tune::train {
namespace {

constexpr int64_t kLossChunk = 1024;
constexpr int64_t kEvalBatches = 8;
constexpr double kMinLrRatio = 0.1;

// The dense tensors made trainable, by name, for AdamW.
std::vector<std::pair<std::string, at::Tensor>> Trainable(model::Transformer& m) {
  std::vector<std::pair<std::string, at::Tensor>> params;
  for (auto& [name, tensor] : m.DenseParameters()) {
    tensor->requires_grad_(true);
    params.emplace_back(name, *tensor);
  }
  return params;
}

double Step(model::Transformer& m, Batcher& train, AdamW& opt, double lr) {
  Batch b = train.Next();
  at::Tensor hidden = m.HiddenPacked(b.ids, b.positions, b.segments, /*checkpoint=*/false);
  // Whole logits, not train/loss.h's chunks: those treat lm_head as frozen (LoRA), and here it
  // learns too; a small model's (tokens x vocab) logits are a few MB.
  at::Tensor logits = at::linear(hidden.reshape({-1, hidden.size(-1)}), m.lm_head()).to(at::kFloat);
  at::Tensor loss = at::cross_entropy_loss(logits, b.labels.reshape({-1}), {}, at::Reduction::Mean, -100);
  loss.backward();
  opt.Step(lr);
  opt.ZeroGrad();
  return loss.item<double>();
}

void Report(int64_t step, const PretrainOptions& o, double loss, double seconds,
            std::chrono::steady_clock::time_point& last) {
  if (!core::ShouldPrint(last, step == o.steps)) return;
  last = std::chrono::steady_clock::now();
  core::ProgressUpdate u;
  u.stage = "pretrain";
  u.done = static_cast<uint64_t>(step);
  u.total = static_cast<uint64_t>(o.steps);
  u.unit = "steps";
  u.seconds = seconds;
  u.fields = {{"loss", loss}};
  u.text = absl::StrFormat("pretrain step %d/%d  loss %.4f  %.1f steps/s", step, o.steps, loss, step / seconds);
  core::PrintProgress(u, step == o.steps);
}

absl::Status Save(model::Transformer& m, const PretrainOptions& o) {
  std::vector<std::pair<std::string, at::Tensor>> tensors;
  for (auto& [name, tensor] : m.DenseParameters()) tensors.emplace_back(name, tensor->detach());
  std::error_code ec;
  std::filesystem::create_directories(o.out, ec);
  if (ec) return absl::PermissionDeniedError(absl::StrFormat("cannot create %s: %s", o.out.string(), ec.message()));
  TUNE_RETURN_IF_ERROR(model::WriteSafetensors(o.out / "model.safetensors", tensors));
  for (const char* file : {"config.json", "tokenizer.model", "tokenizer.json", "tokenizer_config.json"}) {
    if (!std::filesystem::exists(o.base / file)) continue;
    TUNE_ASSIGN_OR_RETURN(std::string bytes, core::ReadFile(o.base / file));
    TUNE_RETURN_IF_ERROR(core::WriteFileAtomic(o.out / file, bytes));
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<PretrainReport> Pretrain(const PretrainOptions& o) {
  model::ModelOptions mo;
  mo.base = o.base;
  mo.threads = o.threads;
  TUNE_ASSIGN_OR_RETURN(model::Transformer m, model::LoadModel(mo, std::nullopt, model::LoraMode::kUnmerged));
  TUNE_ASSIGN_OR_RETURN(Batcher train, Batcher::Open(o.data, "train", o.batch_size, o.seq_len, o.seed, true));
  absl::StatusOr<Batcher> eval = Batcher::Open(o.data, "eval", o.batch_size, o.seq_len, 0, false);
  PretrainReport r;
  const auto start = std::chrono::steady_clock::now();
  TUNE_RETURN_IF_ERROR(model::CallTorch("pretrain", [&] {
    if (eval.ok()) r.held_out_before = MeanHeldOutLoss(m, *eval, kEvalBatches, kLossChunk);
    AdamW opt(Trainable(m), AdamWOptions());
    std::chrono::steady_clock::time_point last_report;
    for (int64_t step = 0; step < o.steps; ++step) {
      const double loss = Step(m, train, opt, LearningRate(step, o.steps, o.warmup_steps, o.lr, kMinLrRatio));
      if (step == 0) r.first_loss = loss;
      r.last_loss = loss;
      r.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
      if (o.progress) Report(step + 1, o, loss, r.seconds, last_report);
    }
    for (auto& [name, tensor] : m.DenseParameters()) tensor->requires_grad_(false);
    if (eval.ok()) r.held_out_after = MeanHeldOutLoss(m, *eval, kEvalBatches, kLossChunk);
  }));
  r.steps = o.steps;
  r.tokens = o.steps * o.batch_size * o.seq_len;
  TUNE_RETURN_IF_ERROR(Save(m, o));
  return r;
}

}  // namespace tune::train

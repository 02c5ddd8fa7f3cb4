#include "train/trainer.h"

#include <ATen/ATen.h>
#include <ATen/core/Generator.h>
#include <c10/core/GradMode.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <fstream>
#include <nlohmann/json.hpp>

#include "absl/strings/str_format.h"
#include "core/file.h"
#include "core/progress.h"
#include "data/dataset.h"
#include "core/status.h"
#include "model/device.h"
#include "model/torch_status.h"
#include "train/batcher.h"
#include "train/checkpoint.h"
#include "train/heldout_loss.h"
#include "train/data_parallel.h"
#include "train/loss.h"
#include "train/optimizer.h"
#include "train/run_info.h"

namespace tune::train {
namespace {

using json = nlohmann::json;

std::atomic<bool> g_stop_requested{false};
void RequestStop(int) { g_stop_requested = true; }

// Installs SIGINT/SIGTERM handlers for the duration of a run, restoring the previous ones.
class StopSignals {
 public:
  StopSignals() {
    g_stop_requested = false;
    previous_int_ = std::signal(SIGINT, RequestStop);
    previous_term_ = std::signal(SIGTERM, RequestStop);
  }
  ~StopSignals() {
    std::signal(SIGINT, previous_int_);
    std::signal(SIGTERM, previous_term_);
  }

 private:
  void (*previous_int_)(int);
  void (*previous_term_)(int);
};

// The settings a resumed run must share with the run that wrote the checkpoint.
std::string RunFingerprint(const TrainRequest& r) {
  json j = {{"lora", {{"rank", r.lora.rank}, {"alpha", r.lora.alpha}, {"dropout", r.lora.dropout},
                      {"rslora", r.lora.rslora}, {"targets", r.lora.targets},
                      {"dtype", model::ComputeDTypeName(r.lora.dtype)}}},
            {"train", {{"steps", r.train.steps}, {"batch_size", r.train.batch_size},
                       {"seq_len", r.train.seq_len}, {"grad_accum", r.train.grad_accum},
                       {"lr", r.train.lr}, {"seed", r.train.seed}, {"quantize", r.train.quantize}}},
            {"base", r.model.base.string()},
            {"data", r.data.string()}};
  // Only when set, so checkpoints of runs from before --init-adapter still resume.
  if (!r.init_adapter.empty()) j["init_adapter"] = r.init_adapter.string();
  return j.dump();
}

// The checkpoint entry of the training device's generator state; the CPU's is plain "rng", so
// checkpoints written before the GPU path still resume.
std::string RngStateName(at::DeviceType type) { return type == at::kCPU ? "rng" : "rng.cuda"; }

class MetricsLog {
 public:
  // Keeps the lines of steps <= `keep_through` (a resumed run rewrites what came after).
  static absl::StatusOr<MetricsLog> Open(const std::filesystem::path& path, int64_t keep_through) {
    std::string kept;
    if (absl::StatusOr<std::string> old = core::ReadFile(path); old.ok()) {
      size_t start = 0;
      while (start < old->size()) {
        size_t end = old->find('\n', start);
        if (end == std::string::npos) break;  // a torn last line from a killed run
        std::string line = old->substr(start, end - start + 1);
        json j = json::parse(line, nullptr, false);
        if (j.is_object() && j.value("step", int64_t{0}) <= keep_through) kept += line;
        start = end + 1;
      }
    }
    TUNE_RETURN_IF_ERROR(core::WriteFileAtomic(path, kept));
    MetricsLog log;
    log.out_.open(path, std::ios::app);
    if (!log.out_) return absl::InternalError(absl::StrFormat("cannot append to %s", path.string()));
    return log;
  }
  void Write(const json& j) {
    out_ << j.dump() << '\n';
    out_.flush();
  }

 private:
  std::ofstream out_;
};

// As core/progress.h's mode says: a line redrawn every step on a terminal, every few seconds in logs
// and JSON events; always the last step.
void PrintProgress(int64_t step, int64_t total, double loss, double lr, double tokens_per_s, double elapsed_s,
                   double eta_s, const std::optional<model::DeviceMemory>& gpu) {
  static std::chrono::steady_clock::time_point last_printed;
  const bool final = step == total;
  if (!core::ShouldPrint(last_printed, final)) return;
  last_printed = std::chrono::steady_clock::now();
  core::ProgressUpdate u;
  u.stage = "train";
  u.done = static_cast<uint64_t>(step);
  u.total = static_cast<uint64_t>(total);
  u.unit = "steps";
  u.seconds = elapsed_s;
  u.eta_s = eta_s;
  u.fields = {{"loss", loss}, {"lr", lr}, {"tokens_per_s", tokens_per_s}};
  if (gpu) u.fields.push_back({"gpu_mem_mb", gpu->allocated_mb});
  const std::string memory = gpu ? absl::StrFormat("  gpu %.0f MiB (peak %.0f)", gpu->allocated_mb, gpu->peak_mb) : "";
  u.text = absl::StrFormat("step %d/%d  loss %.4f  lr %.2e  %.0f tok/s%s", step, total, loss, lr, tokens_per_s,
                           memory);
  core::PrintProgress(u, final);
}

// Everything one training run holds between its phases (Train below is the recipe).
struct Session {
  at::Device device = at::kCPU;
  at::ScalarType compute_dtype = at::kFloat;
  std::unique_ptr<DataParallel> dp;
  bool writer = false;  // rank 0 writes checkpoints, metrics and the adapter
  std::optional<model::Transformer> model;
  std::vector<std::pair<std::string, at::Tensor>> params;  // the adapters, by name
  std::unique_ptr<AdamW> optimizer;
  std::optional<Batcher> batcher;
  std::optional<Batcher> eval;  // absent without an eval split or with eval_batches = 0
  at::Generator rng;
  std::string rng_name, fingerprint;
  int64_t start_step = 0;
  std::optional<MetricsLog> metrics;
  TrainReport report;
};

// Device, processes, output directory, model with fresh adapters, optimizer, data, RNG.
absl::Status SetUp(const TrainRequest& r, Session& s) {
  TUNE_ASSIGN_OR_RETURN(int local_rank, LocalRankFromEnvironment());
  TUNE_ASSIGN_OR_RETURN(s.device, model::ResolveDevice(r.train.device, local_rank, "train.device"));
  s.compute_dtype = model::ResolveComputeDType(r.train.compute_dtype, s.device);
  TUNE_ASSIGN_OR_RETURN(s.dp, DataParallel::FromEnvironment(s.device));
  s.writer = s.dp->rank() == 0;
  if (s.writer) {
    std::error_code ec;
    std::filesystem::create_directories(r.out, ec);
    if (ec) return core::ErrnoStatus(ec.value(), "create output directory", r.out);
    // What "auto" became, before the (possibly long) load.
    std::fprintf(stderr, "training on %s, %s compute, %s adapters, %d process%s\n", s.device.str().c_str(),
                 model::ComputeDTypeName(s.compute_dtype), model::ComputeDTypeName(r.lora.dtype),
                 s.dp->world_size(), s.dp->world_size() == 1 ? "" : "es");
  }
  // Training computes in train.compute_dtype (model.dtype is for the inference commands).
  model::ModelOptions model_options = r.model;
  model_options.dtype = s.compute_dtype;
  model_options.device = s.device;
  model_options.quantize_nf4 = r.train.quantize == "nf4";
  TUNE_ASSIGN_OR_RETURN(model::Transformer model, model::LoadModel(model_options, std::nullopt, model::LoraMode::kUnmerged));
  s.model.emplace(std::move(model));
  TUNE_RETURN_IF_ERROR(model::InitLora(*s.model, r.lora, static_cast<uint64_t>(r.train.seed)));
  if (!r.init_adapter.empty()) {
    TUNE_ASSIGN_OR_RETURN(model::LoraAdapter initial, model::LoraAdapter::Load(r.init_adapter, r.lora.dtype));
    TUNE_RETURN_IF_ERROR(core::Annotate(model::WarmStartLora(*s.model, initial), r.init_adapter.string()));
    if (s.writer) std::fprintf(stderr, "starting from the adapter in %s\n", r.init_adapter.string().c_str());
  }
  s.model->set_training(true);
  for (const auto& [module, w] : model::AttachedLora(*s.model)) {
    s.params.push_back({module + ".lora_A", w.a});
    s.params.push_back({module + ".lora_B", w.b});
  }
  AdamWOptions adamw;
  adamw.beta1 = r.train.beta1;
  adamw.beta2 = r.train.beta2;
  adamw.eps = r.train.eps;
  adamw.weight_decay = r.train.weight_decay;
  adamw.offload = r.train.optimizer_offload;
  s.optimizer = std::make_unique<AdamW>(s.params, adamw);
  TUNE_ASSIGN_OR_RETURN(Batcher batcher, Batcher::Open(r.data, "train", r.train.batch_size, r.train.seq_len,
                                                       static_cast<uint64_t>(r.train.seed), /*shuffle=*/true));
  s.batcher.emplace(std::move(batcher));
  if (s.batcher->vocab_size() > s.model->config().vocab_size) {
    return absl::FailedPreconditionError(absl::StrFormat(
        "%s was tokenized with a vocabulary of %d, the model has %d; hint: ingest with the base "
        "model's tokenizer",
        r.data.string(), s.batcher->vocab_size(), s.model->config().vocab_size));
  }
  absl::StatusOr<Batcher> eval = Batcher::Open(r.data, "eval", r.train.batch_size, r.train.seq_len, 0, false);
  if (eval.ok() && r.train.eval_batches > 0) s.eval.emplace(*std::move(eval));
  // The device's default generator drives LoRA dropout; seeded per process, saved in checkpoints.
  s.rng = at::globalContext().defaultGenerator(s.device);
  s.rng.set_current_seed(static_cast<uint64_t>(r.train.seed) * 1000003 + static_cast<uint64_t>(s.dp->rank()));
  s.rng_name = RngStateName(s.device.type());
  s.fingerprint = RunFingerprint(r);
  return absl::OkStatus();
}

// --resume: adapters, optimizer, RNG and data position from the latest checkpoint. Without it, a
// run directory that holds one is refused.
absl::Status Resume(const TrainRequest& r, Session& s) {
  if (!r.resume) {
    if (std::filesystem::exists(r.out / "checkpoints" / "latest")) {
      return absl::FailedPreconditionError(absl::StrFormat(
          "%s already holds a training run; hint: pass --resume to continue it, or choose a new --out",
          r.out.string()));
    }
    return absl::OkStatus();
  }
  TUNE_ASSIGN_OR_RETURN(std::optional<TrainState> state, LoadLatestCheckpoint(r.out));
  if (!state) {
    return absl::NotFoundError(
        absl::StrFormat("--resume: %s has no checkpoint; hint: run without --resume to start", r.out.string()));
  }
  if (state->run_fingerprint != s.fingerprint) {
    return absl::FailedPreconditionError(absl::StrFormat(
        "--resume: the checkpoint in %s was written with other settings (model, data, lora or "
        "train values differ); hint: resume with the original config or train into a new --out",
        r.out.string()));
  }
  std::map<std::string, at::Tensor> saved(state->tensors.begin(), state->tensors.end());
  c10::NoGradGuard no_grad;
  for (auto& [name, p] : s.params) {
    auto it = saved.find(name);
    if (it == saved.end() || it->second.sizes() != p.sizes()) {
      return absl::DataLossError(absl::StrFormat("checkpoint lacks adapter tensor %s", name));
    }
    p.copy_(it->second);
  }
  if (!s.optimizer->Restore(state->tensors, state->step)) return absl::DataLossError("checkpoint lacks optimizer state");
  if (saved.count(s.rng_name) > 0) {
    s.rng.set_state(saved[s.rng_name]);
  } else if (saved.count(RngStateName(at::kCPU)) + saved.count(RngStateName(at::kCUDA)) > 0) {
    // CPU and CUDA generators have different states; a run moved between them cannot replay its
    // dropout masks, so it continues from the fresh seed.
    std::fprintf(stderr, "note: the checkpoint was written on another device type; dropout masks continue from a fresh seed\n");
  } else {
    return absl::DataLossError("checkpoint lacks the RNG state");
  }
  s.batcher->Seek(state->data);
  s.start_step = state->step;
  return absl::OkStatus();
}

absl::Status Save(const TrainRequest& r, Session& s, int64_t step) {
  if (!s.writer) return absl::OkStatus();
  TrainState state;
  state.step = step;
  state.data = s.batcher->position();
  state.run_fingerprint = s.fingerprint;
  for (const auto& [name, p] : s.params) state.tensors.push_back({name, p.detach()});
  for (const auto& entry : s.optimizer->State()) state.tensors.push_back(entry);
  state.tensors.push_back({s.rng_name, s.rng.get_state()});
  return SaveCheckpoint(r.out, state);
}

double EvalLoss(const TrainRequest& r, Session& s) {
  s.model->set_training(false);
  const double loss = MeanHeldOutLoss(*s.model, *s.eval, r.train.eval_batches, r.train.loss_chunk);
  s.model->set_training(true);
  return loss;
}

// The metrics log (a resumed run keeps the lines up to its checkpoint) and the untrained
// baseline's eval loss, so the metrics show what training changed.
absl::Status StartMetrics(const TrainRequest& r, Session& s) {
  if (s.writer) {
    TUNE_ASSIGN_OR_RETURN(MetricsLog log, MetricsLog::Open(r.out / "metrics.jsonl", r.resume ? s.start_step : -1));
    s.metrics.emplace(std::move(log));
  }
  if (s.eval && s.start_step == 0) {
    s.report.initial_eval_loss = EvalLoss(r, s);
    if (s.writer) s.metrics->Write({{"step", 0}, {"eval_loss", *s.report.initial_eval_loss}});
  }
  return absl::OkStatus();
}

struct StepResult {
  double loss = 0, grad_norm = 0, lr = 0, targets = 0;
};

// One optimizer step: grad_accum micro-batches on every process, gradients summed across them,
// clipped, AdamW.
absl::StatusOr<StepResult> OptimizerStep(const TrainRequest& r, Session& s, int64_t step) {
  std::vector<Batch> batches;
  int64_t targets = 0;
  for (int64_t k = 0; k < r.train.grad_accum; ++k) {
    batches.push_back(ToDevice(s.batcher->NextFor(s.dp->rank(), s.dp->world_size()), s.device));
    targets += batches.back().targets;
  }
  // Normalise by the targets of the whole step on all processes, so that the summed gradients
  // equal those of one process running every micro-batch.
  std::vector<at::Tensor> count = {at::full({1}, static_cast<double>(targets), at::kDouble)};
  TUNE_RETURN_IF_ERROR(s.dp->AllReduceSum(count));
  StepResult out;
  out.targets = std::max(1.0, count[0].item<double>());
  double loss_sum = 0;
  for (const Batch& b : batches) {
    at::Tensor hidden = s.model->HiddenPacked(b.ids, b.positions, b.segments, r.train.grad_checkpointing);
    at::Tensor loss = ChunkedCrossEntropySum(hidden.reshape({-1, hidden.size(-1)}), s.model->lm_head(),
                                             b.labels.reshape({-1}), r.train.loss_chunk);
    (loss / out.targets).backward();
    loss_sum += loss.item<double>();
  }
  std::vector<at::Tensor> grads;
  for (auto& [name, p] : s.params) {
    if (!p.grad().defined()) p.mutable_grad() = at::zeros_like(p);
    grads.push_back(p.grad());
  }
  grads.push_back(at::full({1}, loss_sum, at::kFloat));
  TUNE_RETURN_IF_ERROR(s.dp->AllReduceSum(grads));
  out.loss = grads.back().item<double>() / out.targets;
  out.grad_norm = ClipGradNorm(s.params, r.train.max_grad_norm);
  out.lr = LearningRate(step, r.train.steps, r.train.warmup_steps, r.train.lr, r.train.lr_min_ratio);
  s.optimizer->Step(out.lr);
  s.optimizer->ZeroGrad();
  return out;
}

// The step's metrics line (with an eval every eval_every steps and at the end) and progress.
void Record(const TrainRequest& r, Session& s, int64_t done, const StepResult& step, double elapsed,
            int64_t tokens_this_run) {
  json line = {{"step", done}, {"loss", step.loss}, {"lr", step.lr}, {"grad_norm", step.grad_norm},
               {"tokens", static_cast<int64_t>(step.targets)}};
  const bool eval_now = s.eval && ((r.train.eval_every > 0 && done % r.train.eval_every == 0) || done == r.train.steps);
  if (eval_now) {
    s.report.final_eval_loss = EvalLoss(r, s);
    line["eval_loss"] = *s.report.final_eval_loss;
  }
  const double tok_s = static_cast<double>(tokens_this_run) / std::max(elapsed, 1e-9);
  line["tokens_per_s"] = tok_s;
  line["elapsed_s"] = elapsed;
  line["rss_peak_mb"] = model::HostPeakRssMb();
  const std::optional<model::DeviceMemory> gpu = model::DeviceMemoryStats(s.device);
  if (gpu) {
    line["gpu_mem_allocated_mb"] = gpu->allocated_mb;
    line["gpu_mem_peak_mb"] = gpu->peak_mb;
  }
  if (s.writer && (done % r.train.log_every == 0 || eval_now || done == r.train.steps)) {
    s.metrics->Write(line);
    const double eta = elapsed / static_cast<double>(done - s.start_step) * static_cast<double>(r.train.steps - done);
    PrintProgress(done, r.train.steps, step.loss, step.lr, tok_s, elapsed, eta, gpu);
  }
}

// The PEFT adapter and run.json (train/run_info.h: the run and the commit it was trained on).
absl::Status Finish(const TrainRequest& r, Session& s) {
  if (!s.writer) return absl::OkStatus();
  TUNE_RETURN_IF_ERROR(model::SaveLoraAdapter(*s.model, r.lora, r.model.base.filename().string(), r.out));
  RunInfo info;
  info.base = r.model.base.string();
  info.data = r.data.string();
  info.settings_json = s.fingerprint;
  info.processes = s.dp->world_size();
  info.device = s.device.str();
  info.compute_dtype = model::ComputeDTypeName(s.compute_dtype);
  if (absl::StatusOr<data::DatasetManifest> m = data::ReadManifest(r.data); m.ok()) {
    info.data_repo_name = m->repo_name;
    info.data_commit = m->commit;
  }
  info.steps = s.report.steps;
  info.tokens = s.report.tokens;
  info.final_loss = s.report.final_loss;
  info.final_eval_loss = s.report.final_eval_loss;
  return WriteRunInfo(r.out, info);
}

absl::StatusOr<TrainReport> Train(const TrainRequest& r) {
  Session s;
  TUNE_RETURN_IF_ERROR(SetUp(r, s));
  TUNE_RETURN_IF_ERROR(Resume(r, s));
  StopSignals signals;
  TUNE_RETURN_IF_ERROR(StartMetrics(r, s));
  const auto t0 = std::chrono::steady_clock::now();
  int64_t tokens_this_run = 0;
  for (int64_t step = s.start_step; step < r.train.steps; ++step) {
    TUNE_ASSIGN_OR_RETURN(StepResult result, OptimizerStep(r, s, step));
    const int64_t done = step + 1;
    tokens_this_run += static_cast<int64_t>(result.targets);
    s.report.tokens += static_cast<int64_t>(result.targets);
    s.report.final_loss = result.loss;
    s.report.steps = done;
    Record(r, s, done, result, std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count(),
           tokens_this_run);
    const bool stop = g_stop_requested.load();
    if ((r.train.save_every > 0 && done % r.train.save_every == 0) || done == r.train.steps || stop) {
      TUNE_RETURN_IF_ERROR(Save(r, s, done));
    }
    if (stop) {
      return absl::CancelledError(absl::StrFormat("interrupted after step %d; checkpoint saved in %s; continue with --resume",
                                                  done, (r.out / "checkpoints").string()));
    }
  }
  TUNE_RETURN_IF_ERROR(Finish(r, s));
  return s.report;
}

}  // namespace

absl::StatusOr<TrainReport> RunTraining(const TrainRequest& request) {
  return model::CallTorch("training", [&] { return Train(request); });
}

}  // namespace tune::train

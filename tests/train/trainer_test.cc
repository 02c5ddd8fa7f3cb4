// The trainer end to end on the tiny llama fixture: it learns, it resumes exactly after a
// kill -9, SIGINT saves and exits, and two Gloo processes equal one with doubled accumulation;
// bf16 compute, bf16 adapters and the offloaded optimizer; the same on a GPU (*_CUDA, skipped
// without one).
#include "train/trainer.h"

#include <ATen/ATen.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <fstream>
#include <functional>
#include <nlohmann/json.hpp>
#include <thread>
#include <torch/cuda.h>

#include "absl/strings/str_format.h"
#include "core/file.h"
#include "data/ingest.h"
#include "formats/safetensors.h"
#include "model/lora.h"
#include "model/tensor_io.h"
#include "tests/support/temp_dir.h"
#include "tests/support/tensor_testing.h"
#include "tests/train/dataset_fixture.h"

namespace tune::train {
namespace {

using tune::testing::FixturePath;
using tune::testing::TempDir;

TrainRequest TinyRequest(const std::filesystem::path& data, const std::filesystem::path& out) {
  TrainRequest r;
  r.model.base = FixturePath("tiny-llama");
  r.model.threads = 1;  // identical reduction order in every run
  r.lora.rank = 8;
  r.lora.alpha = 16;
  r.lora.dropout = 0.05;
  r.train.steps = 24;
  r.train.batch_size = 2;
  r.train.seq_len = 64;
  r.train.lr = 1e-2;
  r.train.warmup_steps = 2;
  r.train.eval_every = 8;
  r.train.eval_batches = 2;
  r.train.save_every = 8;
  r.train.loss_chunk = 48;
  r.train.quantize = "none";
  r.train.device = "cpu";  // exactness tests need the CPU; the *_CUDA tests choose "cuda"
  r.data = data;
  r.out = out;
  return r;
}

std::vector<nlohmann::json> Metrics(const std::filesystem::path& out) {
  std::vector<nlohmann::json> lines;
  std::ifstream in(out / "metrics.jsonl");
  for (std::string line; std::getline(in, line);) lines.push_back(nlohmann::json::parse(line));
  return lines;
}

at::Tensor AdapterTensor(const std::filesystem::path& dir, const std::string& name) {
  auto ckpt = formats::SafetensorsCheckpoint::OpenFile(dir / "adapter_model.safetensors");
  return model::ToTensor(*ckpt->Find(name), at::kFloat).value();
}

std::vector<double> Losses(const std::filesystem::path& out) {
  std::vector<double> losses;
  for (const nlohmann::json& line : Metrics(out)) {
    if (line.contains("loss")) losses.push_back(line["loss"].get<double>());
  }
  return losses;
}

class TrainerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    tune::testing::WriteDataset(data_.path(), tune::testing::CyclicDocuments(120, 8, 60, 11),
                                tune::testing::CyclicDocuments(12, 8, 60, 99));
  }
  TempDir data_;
};

TEST_F(TrainerTest, QloraTrainingLowersHeldOutLossAndWritesAPeftAdapter) {
  TempDir out;
  TrainRequest r = TinyRequest(data_.path(), out.path());
  r.train.quantize = "nf4";
  r.train.eval_every = 1;
  r.train.steps = 60;
  r.train.lr = 1e-2;
  auto report = RunTraining(r);
  ASSERT_TRUE(report.ok()) << report.status();
  std::vector<nlohmann::json> m = Metrics(out.path());
  ASSERT_EQ(m.size(), 61u);  // the untrained baseline at step 0, then every step
  EXPECT_EQ(m.front()["step"], 0);
  for (size_t i = 1; i < m.size(); ++i) {
    EXPECT_GT(m[i]["grad_norm"].get<double>(), 0.0) << m[i].dump();
    // Host memory always; GPU memory only where there is a GPU.
    EXPECT_GT(m[i]["rss_peak_mb"].get<double>(), 1.0) << m[i].dump();
    EXPECT_FALSE(m[i].contains("gpu_mem_allocated_mb") || m[i].contains("gpu_mem_peak_mb")) << m[i].dump();
  }
  const double first_eval = m.front()["eval_loss"], last_eval = m.back()["eval_loss"];
  EXPECT_LT(last_eval, first_eval - 0.5) << first_eval << " -> " << last_eval;
  EXPECT_LT(m.back()["loss"].get<double>(), m[1]["loss"].get<double>());
  EXPECT_EQ(report->initial_eval_loss, first_eval);
  EXPECT_EQ(report->final_eval_loss, last_eval);
  // The adapter is a PEFT directory that tune reads back (and HF PEFT would).
  auto adapter = model::LoraAdapter::Load(out.path(), at::kFloat);
  ASSERT_TRUE(adapter.ok()) << adapter.status();
  EXPECT_EQ(adapter->modules().size(), 14u);
  EXPECT_TRUE(std::filesystem::exists(out / "run.json"));
}

TEST(TrainerOnThisRepoTest, TinyModelTrainedOnThisRepositoryLowersHeldOutLoss) {
  TempDir tmp;
  data::IngestOptions ingest;
  ingest.repo = tune::testing::SourcePath("");
  ingest.out = tmp / "dataset";
  ingest.tokenizer = FixturePath("tiny-llama") / "tokenizer.model";
  ingest.progress = false;
  auto mined = data::RunIngest(ingest);
  ASSERT_TRUE(mined.ok()) << mined.status();
  ASSERT_GT(mined->eval_tokens, 1000u);
  TrainRequest r = TinyRequest(tmp / "dataset", tmp / "run");
  r.train.steps = 200;
  r.train.batch_size = 4;
  r.train.seq_len = 256;
  r.train.quantize = "nf4";
  r.train.eval_every = 50;
  r.train.eval_batches = 8;
  r.train.save_every = 0;
  auto report = RunTraining(r);
  ASSERT_TRUE(report.ok()) << report.status();
  ASSERT_TRUE(report->initial_eval_loss && report->final_eval_loss);
  // Measured: 6.26 -> 6.10 in 200 steps (the random tiny model learns the token statistics).
  EXPECT_LT(*report->final_eval_loss, *report->initial_eval_loss - 0.05)
      << *report->initial_eval_loss << " -> " << *report->final_eval_loss;
}

TEST_F(TrainerTest, GradientCheckpointingDoesNotChangeTheRun) {
  TempDir a, b;
  TrainRequest ra = TinyRequest(data_.path(), a.path()), rb = TinyRequest(data_.path(), b.path());
  ra.train.steps = rb.train.steps = 4;
  ra.train.grad_checkpointing = true;
  rb.train.grad_checkpointing = false;
  ASSERT_TRUE(RunTraining(ra).ok());
  ASSERT_TRUE(RunTraining(rb).ok());
  const std::string name = "base_model.model.model.layers.1.mlp.down_proj.lora_B.weight";
  EXPECT_TRUE(tune::testing::TensorNear(AdapterTensor(a.path(), name), AdapterTensor(b.path(), name), 1e-6));
  EXPECT_NEAR(Metrics(a.path()).back()["loss"].get<double>(), Metrics(b.path()).back()["loss"].get<double>(), 1e-6);
}

class ResumeTest : public TrainerTest, public ::testing::WithParamInterface<at::ScalarType> {};

TEST_P(ResumeTest, ResumeFromAnEarlierCheckpointReproducesTheRunExactly) {
  TempDir out;
  TrainRequest r = TinyRequest(data_.path(), out.path());
  r.lora.dtype = GetParam();  // bf16 adapters resume from their f32 master copies
  ASSERT_TRUE(RunTraining(r).ok());
  std::vector<nlohmann::json> full = Metrics(out.path());
  const std::string name = "base_model.model.model.layers.0.self_attn.q_proj.lora_A.weight";
  at::Tensor full_a = AdapterTensor(out.path(), name);
  // Checkpoints at steps 16 and 24 are kept; go back to 16 as if the run had died after it.
  ASSERT_TRUE(core::WriteFileAtomic(out / "checkpoints/latest", "step-00000016\n").ok());
  r.resume = true;
  ASSERT_TRUE(RunTraining(r).ok());
  std::vector<nlohmann::json> resumed = Metrics(out.path());
  ASSERT_EQ(resumed.size(), full.size());
  for (size_t i = 0; i < full.size(); ++i) {
    for (const char* key : {"step", "loss", "eval_loss", "lr", "grad_norm"}) {
      EXPECT_EQ(resumed[i].value(key, -1.0), full[i].value(key, -1.0)) << key << " in line " << i;
    }
  }
  EXPECT_TRUE(at::equal(AdapterTensor(out.path(), name), full_a));
}

INSTANTIATE_TEST_SUITE_P(AdapterDTypes, ResumeTest, ::testing::Values(at::kFloat, at::kBFloat16),
                         [](const auto& info) { return std::string(info.param == at::kFloat ? "f32" : "bf16"); });

TEST_F(TrainerTest, CudaWithoutAGpuIsRefusedNamingTheKey) {
  if (torch::cuda::is_available()) GTEST_SKIP() << "a GPU is present";
  TempDir out;
  TrainRequest r = TinyRequest(data_.path(), out.path());
  for (const char* device : {"cuda", "cuda:1"}) {
    r.train.device = device;
    absl::Status status = RunTraining(r).status();
    EXPECT_EQ(status.code(), absl::StatusCode::kFailedPrecondition) << status;
    EXPECT_THAT(status.message(), ::testing::HasSubstr("train.device"));
    EXPECT_THAT(status.message(), ::testing::HasSubstr("hint: set train.device = \"cpu\""));
  }
  // "auto" falls back to the CPU.
  r.train.device = "auto";
  r.train.steps = 1;
  auto report = RunTraining(r);
  ASSERT_TRUE(report.ok()) << report.status();
}

TEST_F(TrainerTest, Bf16ComputeTrainsCloseToF32) {
  TempDir f32, bf16;
  TrainRequest a = TinyRequest(data_.path(), f32.path()), b = TinyRequest(data_.path(), bf16.path());
  a.train.steps = b.train.steps = 8;
  a.train.quantize = b.train.quantize = "nf4";
  a.train.compute_dtype = "f32";
  b.train.compute_dtype = "bf16";
  ASSERT_TRUE(RunTraining(a).ok());
  auto report = RunTraining(b);
  ASSERT_TRUE(report.ok()) << report.status();
  std::vector<double> la = Losses(f32.path()), lb = Losses(bf16.path());
  ASSERT_EQ(la.size(), 8u);
  ASSERT_EQ(lb.size(), 8u);
  // bf16 keeps 8 significant bits (relative rounding 2^-9 = 0.2 %) in every weight, activation
  // and matmul output; the f32 norms, softmax and loss keep the error from compounding, and the
  // mean over ~120 targets averages it, so each step's loss stays within 0.5 % of f32 (measured:
  // 0.06 % at most) while training moves it by 12 %.
  for (size_t i = 0; i < la.size(); ++i) EXPECT_NEAR(lb[i], la[i], 0.005 * la[i]) << "step " << i + 1;
  EXPECT_NE(la, lb);  // it really ran in bf16
  EXPECT_LT(lb.back(), lb.front() - 0.5);
  auto run = nlohmann::json::parse(core::ReadFile(bf16 / "run.json").value());
  EXPECT_EQ(run["compute_dtype"], "bf16");
  EXPECT_EQ(run["device"], "cpu");
}

TEST_F(TrainerTest, Bf16AdapterIsSavedInBf16AndLoadsInDebugAndExport) {
  TempDir out;
  TrainRequest r = TinyRequest(data_.path(), out.path());
  r.train.steps = 4;
  r.lora.dtype = at::kBFloat16;
  ASSERT_TRUE(RunTraining(r).ok());
  auto ckpt = formats::SafetensorsCheckpoint::OpenFile(out / "adapter_model.safetensors");
  ASSERT_TRUE(ckpt.ok()) << ckpt.status();
  for (const std::string& name : ckpt->names()) EXPECT_EQ(ckpt->Find(name)->dtype, formats::DType::kBF16) << name;
  auto adapter = model::LoraAdapter::Load(out.path(), at::kFloat);
  ASSERT_TRUE(adapter.ok()) << adapter.status();
  EXPECT_EQ(adapter->modules().size(), 14u);
  const std::string base = FixturePath("tiny-llama").string();
  const std::string tune = std::string(TUNE_BINARY_DIR) + "/cli/tune";
  const std::string quiet = " 2>" + (out / "stderr.txt").string();
  EXPECT_EQ(std::system((tune + " debug logits --model " + base + " --adapter " + out.path().string() +
                         " --ids 1,2,3 --out " + (out / "logits.safetensors").string() + quiet).c_str()), 0)
      << core::ReadFile(out / "stderr.txt").value_or("");
  EXPECT_EQ(std::system((tune + " export --base " + base + " --adapter " + out.path().string() +
                         " --quant F32 --out " + (out / "merged.gguf").string() + quiet).c_str()), 0)
      << core::ReadFile(out / "stderr.txt").value_or("");
  EXPECT_TRUE(std::filesystem::exists(out / "merged.gguf"));
}

TEST_F(TrainerTest, OptimizerOffloadGivesTheSameRun) {
  TempDir normal, offloaded;
  TrainRequest a = TinyRequest(data_.path(), normal.path()), b = TinyRequest(data_.path(), offloaded.path());
  a.train.steps = b.train.steps = 6;
  b.train.optimizer_offload = true;
  ASSERT_TRUE(RunTraining(a).ok());
  ASSERT_TRUE(RunTraining(b).ok());
  EXPECT_EQ(Losses(normal.path()), Losses(offloaded.path()));
  const std::string name = "base_model.model.model.layers.1.mlp.down_proj.lora_B.weight";
  EXPECT_TRUE(at::equal(AdapterTensor(normal.path(), name), AdapterTensor(offloaded.path(), name)));
}

// --- on a GPU (filtered out by tune_torch_test_main without one) ---

TEST_F(TrainerTest, CudaTrainingMatchesTheCpuLosses_CUDA) {
  TempDir cpu, gpu;
  TrainRequest a = TinyRequest(data_.path(), cpu.path()), b = TinyRequest(data_.path(), gpu.path());
  a.train.steps = b.train.steps = 6;
  a.train.quantize = b.train.quantize = "nf4";
  a.lora.dropout = b.lora.dropout = 0.0;  // the CPU and CUDA generators draw different masks
  a.train.device = "cpu";
  b.train.device = "cuda";
  a.train.compute_dtype = b.train.compute_dtype = "f32";
  ASSERT_TRUE(RunTraining(a).ok());
  auto report = RunTraining(b);
  ASSERT_TRUE(report.ok()) << report.status();
  std::vector<double> la = Losses(cpu.path()), lb = Losses(gpu.path());
  ASSERT_EQ(la.size(), lb.size());
  // The NF4 weights dequantize bit-identically; only the f32 reduction orders of the GPU's
  // kernels (and TF32, which LibTorch leaves off for matmuls by default) differ.
  for (size_t i = 0; i < la.size(); ++i) EXPECT_NEAR(lb[i], la[i], 1e-3 * la[i]) << "step " << i + 1;
  std::vector<nlohmann::json> m = Metrics(gpu.path());
  EXPECT_GT(m.back()["gpu_mem_peak_mb"].get<double>(), 0.0);
  EXPECT_GT(m.back()["gpu_mem_allocated_mb"].get<double>(), 0.0);
}

TEST_F(TrainerTest, Bf16TrainingOnCudaLowersTheLoss_CUDA) {
  TempDir out;
  TrainRequest r = TinyRequest(data_.path(), out.path());
  r.train.steps = 30;
  r.train.quantize = "nf4";
  r.train.device = "cuda";  // compute_dtype "auto": bf16 on CUDA
  r.lora.dtype = at::kBFloat16;
  r.train.optimizer_offload = true;
  auto report = RunTraining(r);
  ASSERT_TRUE(report.ok()) << report.status();
  ASSERT_TRUE(report->initial_eval_loss && report->final_eval_loss);
  EXPECT_LT(*report->final_eval_loss, *report->initial_eval_loss - 0.5);
  auto run = nlohmann::json::parse(core::ReadFile(out / "run.json").value());
  EXPECT_EQ(run["compute_dtype"], "bf16");
}

TEST_F(TrainerTest, ResumeWithOtherSettingsIsRefused) {
  TempDir out;
  TrainRequest r = TinyRequest(data_.path(), out.path());
  r.train.steps = 8;
  ASSERT_TRUE(RunTraining(r).ok());
  r.resume = true;
  r.lora.rank = 4;
  EXPECT_EQ(RunTraining(r).status().code(), absl::StatusCode::kFailedPrecondition);
  TempDir empty;
  TrainRequest fresh = TinyRequest(data_.path(), empty.path());
  fresh.resume = true;
  EXPECT_EQ(RunTraining(fresh).status().code(), absl::StatusCode::kNotFound);
  // Starting afresh over an existing run would silently destroy it.
  TrainRequest again = TinyRequest(data_.path(), out.path());
  EXPECT_EQ(RunTraining(again).status().code(), absl::StatusCode::kFailedPrecondition);
}

TEST_F(TrainerTest, InitAdapterStartsFromAnEarlierRunsAdapter) {
  TempDir first, fresh, warm;
  auto trained = RunTraining(TinyRequest(data_.path(), first.path()));
  ASSERT_TRUE(trained.ok()) << trained.status();
  auto untrained = RunTraining(TinyRequest(data_.path(), fresh.path()));
  ASSERT_TRUE(untrained.ok()) << untrained.status();
  TrainRequest r = TinyRequest(data_.path(), warm.path());
  r.init_adapter = first.path();
  auto continued = RunTraining(r);
  ASSERT_TRUE(continued.ok()) << continued.status();
  // Step 0's held-out loss is the first run's final one: the same adapter on the same batches.
  ASSERT_TRUE(trained->final_eval_loss && continued->initial_eval_loss && untrained->initial_eval_loss);
  EXPECT_NEAR(*continued->initial_eval_loss, *trained->final_eval_loss, 1e-5);
  EXPECT_LT(*continued->initial_eval_loss, *untrained->initial_eval_loss - 0.5);
  // run.json names where the run started.
  auto run = nlohmann::json::parse(core::ReadFile(warm / "run.json").value());
  EXPECT_THAT(run.dump(), ::testing::HasSubstr(first.path().string()));
}

TEST_F(TrainerTest, InitAdapterOfOtherSettingsIsRefusedNamingTheSetting) {
  TempDir first;
  ASSERT_TRUE(RunTraining(TinyRequest(data_.path(), first.path())).ok());
  struct Case {
    std::function<void(TrainRequest&)> change;
    std::string expected;
  };
  const Case cases[] = {
      {[](TrainRequest& r) { r.lora.rank = 4; }, "lora.rank 4"},
      {[](TrainRequest& r) { r.lora.alpha = 8; }, "lora.alpha"},
      {[](TrainRequest& r) { r.lora.targets = {"q_proj", "v_proj"}; }, "lora.targets 4"},
  };
  for (const Case& c : cases) {
    TempDir out;
    TrainRequest r = TinyRequest(data_.path(), out.path());
    r.init_adapter = first.path();
    c.change(r);
    absl::StatusOr<TrainReport> report = RunTraining(r);
    EXPECT_EQ(report.status().code(), absl::StatusCode::kFailedPrecondition) << report.status();
    EXPECT_THAT(report.status().message(), ::testing::HasSubstr(c.expected));
    EXPECT_THAT(report.status().message(), ::testing::HasSubstr(first.path().string()));
  }
  // An adapter of fewer modules than this run adapts.
  TempDir partial, out;
  TrainRequest small = TinyRequest(data_.path(), partial.path());
  small.lora.targets = {"q_proj", "v_proj"};
  small.train.steps = 2;
  ASSERT_TRUE(RunTraining(small).ok());
  TrainRequest r = TinyRequest(data_.path(), out.path());
  r.init_adapter = partial.path();
  EXPECT_THAT(RunTraining(r).status().message(), ::testing::HasSubstr("has no module 'model.layers.0.self_attn.k_proj'"));
  TempDir missing;
  r.init_adapter = missing.path();
  EXPECT_THAT(RunTraining(r).status().message(), ::testing::HasSubstr("adapter_config.json"));
}

// --- through the `tune` binary: kill -9, SIGINT, --nproc ---

std::string TuneBinary() { return std::string(TUNE_BINARY_DIR) + "/cli/tune"; }

std::vector<std::string> TrainArgs(const std::filesystem::path& data, const std::filesystem::path& out,
                                   int steps, int grad_accum) {
  return {TuneBinary(), "train", "--base", FixturePath("tiny-llama").string(), "--data", data.string(),
          "--out", out.string(), "--set", "model.threads=1", "--set", absl::StrFormat("train.steps=%d", steps),
          "--set", "train.seq_len=128", "--set", "train.batch_size=2",
          "--set", absl::StrFormat("train.grad_accum=%d", grad_accum), "--set", "train.save_every=2",
          "--set", "train.quantize=\"none\"", "--set", "train.lr=0.01", "--set", "lora.dropout=0.0",
          "--set", "train.device=\"cpu\""};
}

pid_t Spawn(const std::vector<std::string>& args) {
  pid_t pid = fork();
  if (pid == 0) {
    std::vector<char*> argv;
    for (const std::string& a : args) argv.push_back(const_cast<char*>(a.c_str()));
    argv.push_back(nullptr);
    if (std::freopen("/dev/null", "w", stderr) == nullptr) _exit(126);
    execv(argv[0], argv.data());
    _exit(127);
  }
  return pid;
}

int Wait(pid_t pid) {
  int status = 0;
  waitpid(pid, &status, 0);
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

int LatestStep(const std::filesystem::path& out) {
  absl::StatusOr<std::string> latest = core::ReadFile(out / "checkpoints/latest");
  return latest.ok() && latest->size() > 5 ? std::stoi(latest->substr(5)) : 0;
}

// Kills or interrupts `pid` once its run has saved a checkpoint; returns that step.
int StopAfterFirstCheckpoint(pid_t pid, const std::filesystem::path& out, int sig) {
  for (int i = 0; i < 6000 && LatestStep(out) == 0; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(5));
  kill(pid, sig);
  return LatestStep(out);
}

TEST_F(TrainerTest, KillNineThenResumeEndsWithTheUninterruptedLoss) {
  TempDir reference, killed;
  ASSERT_EQ(Wait(Spawn(TrainArgs(data_.path(), reference.path(), 40, 1))), 0);
  pid_t pid = Spawn(TrainArgs(data_.path(), killed.path(), 40, 1));
  const int step_at_kill = StopAfterFirstCheckpoint(pid, killed.path(), SIGKILL);
  Wait(pid);
  ASSERT_GT(step_at_kill, 0);
  ASSERT_LT(LatestStep(killed.path()), 40) << "the run finished before it could be killed";
  std::vector<std::string> resume = TrainArgs(data_.path(), killed.path(), 40, 1);
  resume.push_back("--resume");
  ASSERT_EQ(Wait(Spawn(resume)), 0);
  EXPECT_EQ(Metrics(killed.path()).back()["loss"], Metrics(reference.path()).back()["loss"]);
  EXPECT_EQ(Metrics(killed.path()).size(), Metrics(reference.path()).size());
}

TEST_F(TrainerTest, SigintSavesACheckpointAndExits130) {
  TempDir out;
  pid_t pid = Spawn(TrainArgs(data_.path(), out.path(), 400, 1));
  StopAfterFirstCheckpoint(pid, out.path(), SIGINT);
  EXPECT_EQ(Wait(pid), 130);
  const int saved = LatestStep(out.path());
  EXPECT_GT(saved, 0);
  EXPECT_LT(saved, 400);
  EXPECT_EQ(static_cast<int>(Metrics(out.path()).back()["step"]), saved);
}

TEST_F(TrainerTest, TwoGlooProcessesEqualOneWithDoubledAccumulation) {
  TempDir one, two;
  ASSERT_EQ(Wait(Spawn(TrainArgs(data_.path(), one.path(), 6, 2))), 0);
  std::vector<std::string> args = TrainArgs(data_.path(), two.path(), 6, 1);
  args.push_back("--nproc");
  args.push_back("2");
  ASSERT_EQ(Wait(Spawn(args)), 0);
  EXPECT_NEAR(Metrics(one.path()).back()["loss"].get<double>(), Metrics(two.path()).back()["loss"].get<double>(), 1e-5);
  const std::string name = "base_model.model.model.layers.1.self_attn.v_proj.lora_B.weight";
  EXPECT_TRUE(tune::testing::TensorNear(AdapterTensor(one.path(), name), AdapterTensor(two.path(), name), 1e-5));
}

}  // namespace
}  // namespace tune::train

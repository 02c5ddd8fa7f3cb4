#include "train/data_parallel.h"

#include <ATen/ATen.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <string>

#include "absl/strings/numbers.h"
#include "absl/strings/str_format.h"
#include "core/status.h"
#include "model/torch_status.h"

// Each backend only where this LibTorch ships its headers and was built with it: Debian's 1.13
// has Gloo; pip's 2.x has NCCL (when nccl.h is installed beside it) but no Gloo headers.
#if __has_include(<torch/csrc/distributed/c10d/ProcessGroupGloo.hpp>) && __has_include(<gloo/rendezvous/store.h>) && defined(USE_C10D_GLOO)
#include <torch/csrc/distributed/c10d/ProcessGroupGloo.hpp>
#define TUNE_HAVE_GLOO 1
#endif
#if __has_include(<torch/csrc/distributed/c10d/ProcessGroupNCCL.hpp>) && __has_include(<nccl.h>) && defined(USE_C10D_NCCL)
#include <torch/csrc/distributed/c10d/ProcessGroupNCCL.hpp>
#define TUNE_HAVE_NCCL 1
#endif
#if defined(TUNE_HAVE_GLOO) || defined(TUNE_HAVE_NCCL)
#include <torch/csrc/distributed/c10d/TCPStore.hpp>
#endif

namespace tune::train {
namespace {

class SingleProcess : public DataParallel {
 public:
  int rank() const override { return 0; }
  int world_size() const override { return 1; }
  absl::Status AllReduceSum(std::vector<at::Tensor>&) override { return absl::OkStatus(); }
};

absl::StatusOr<int> EnvInt(const char* name) {
  const char* v = std::getenv(name);
  int out = 0;
  if (v == nullptr || !absl::SimpleAtoi(v, &out) || out < 0) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "environment variable %s must be a non-negative integer for multi-process training "
        "(set by torchrun or `tune train --nproc`)",
        name));
  }
  return out;
}

#if defined(TUNE_HAVE_GLOO) || defined(TUNE_HAVE_NCCL)
// A c10d backend (ProcessGroupGloo or ProcessGroupNCCL) whose collectives run on tensors of
// `device`: the CPU for Gloo, the process's GPU for NCCL.
template <typename Group>
class CollectiveGroup : public DataParallel {
 public:
  CollectiveGroup(c10::intrusive_ptr<Group> group, int rank, int world, at::Device device)
      : group_(std::move(group)), rank_(rank), world_(world), device_(device) {}
  int rank() const override { return rank_; }
  int world_size() const override { return world_; }
  absl::Status AllReduceSum(std::vector<at::Tensor>& tensors) override {
    return model::CallTorch("all-reduce", [&] {
      // One flat buffer: a single collective instead of one per adapter tensor. Its type holds
      // every part exactly (bf16 grads widen to f32; the f64 target count stays f64).
      at::ScalarType type = tensors.front().scalar_type();
      for (const at::Tensor& t : tensors) type = at::promoteTypes(type, t.scalar_type());
      std::vector<at::Tensor> flat_parts;
      for (const at::Tensor& t : tensors) flat_parts.push_back(t.reshape(-1).to(device_, type));
      std::vector<at::Tensor> buffer = {at::cat(flat_parts)};
      group_->allreduce(buffer)->wait();
      int64_t offset = 0;
      for (at::Tensor& t : tensors) {
        t.copy_(buffer[0].narrow(0, offset, t.numel()).view_as(t));
        offset += t.numel();
      }
    });
  }

 private:
  c10::intrusive_ptr<Group> group_;
  int rank_;
  int world_;
  at::Device device_;
};
#endif

}  // namespace

absl::StatusOr<int> LocalRankFromEnvironment() {
  if (std::getenv("LOCAL_RANK") == nullptr) return 0;
  return EnvInt("LOCAL_RANK");
}

absl::StatusOr<std::unique_ptr<DataParallel>> DataParallel::FromEnvironment([[maybe_unused]] at::Device device) {
  const char* world_env = std::getenv("WORLD_SIZE");
  if (world_env == nullptr || std::string(world_env) == "1") return std::make_unique<SingleProcess>();
  int world = 0, rank = 0, port = 0;
  TUNE_ASSIGN_OR_RETURN(world, EnvInt("WORLD_SIZE"));
  TUNE_ASSIGN_OR_RETURN(rank, EnvInt("RANK"));
  TUNE_ASSIGN_OR_RETURN(port, EnvInt("MASTER_PORT"));
  const char* addr = std::getenv("MASTER_ADDR");
  if (addr == nullptr) return absl::InvalidArgumentError("environment variable MASTER_ADDR is not set");
  if (rank >= world) {
    return absl::InvalidArgumentError(absl::StrFormat("RANK %d must be below WORLD_SIZE %d", rank, world));
  }
#if defined(TUNE_HAVE_GLOO) || defined(TUNE_HAVE_NCCL)
  return model::CallTorch("joining the process group", [&]() -> absl::StatusOr<std::unique_ptr<DataParallel>> {
    c10d::TCPStoreOptions store_options;
    store_options.port = static_cast<uint16_t>(port);
    store_options.isServer = rank == 0;
    store_options.numWorkers = static_cast<size_t>(world);
    auto store = c10::make_intrusive<c10d::TCPStore>(addr, store_options);
#ifdef TUNE_HAVE_NCCL
    if (device.is_cuda()) {
      auto group = c10::make_intrusive<c10d::ProcessGroupNCCL>(store, rank, world);
      return std::make_unique<CollectiveGroup<c10d::ProcessGroupNCCL>>(group, rank, world, device);
    }
#endif
#ifdef TUNE_HAVE_GLOO
    // On a GPU without NCCL the sums go through host memory.
    auto options = c10d::ProcessGroupGloo::Options::create();
    options->devices.push_back(c10d::ProcessGroupGloo::createDeviceForHostname("127.0.0.1"));
    auto group = c10::make_intrusive<c10d::ProcessGroupGloo>(store, rank, world, options);
    return std::make_unique<CollectiveGroup<c10d::ProcessGroupGloo>>(group, rank, world, at::Device(at::kCPU));
#else
    return absl::UnimplementedError(
        "this LibTorch build has NCCL but no Gloo backend; multi-process training on the CPU "
        "needs Debian's LibTorch; hint: set train.device = \"cuda\"");
#endif
  });
#else
  return absl::UnimplementedError(
      "this LibTorch build has neither a Gloo nor a NCCL backend; multi-process training needs "
      "Debian's LibTorch (Gloo) or a CUDA LibTorch with nccl.h installed (NCCL)");
#endif
}

absl::Status LaunchLocalProcesses(const std::vector<std::string>& argv, int nproc) {
  // Pick a port from the pid so concurrent runs on one machine do not collide.
  const int port = 29500 + static_cast<int>(getpid() % 2000);
  std::vector<pid_t> children;
  for (int rank = 0; rank < nproc; ++rank) {
    pid_t pid = fork();
    if (pid < 0) return absl::InternalError("fork failed");
    if (pid == 0) {
      setenv("RANK", std::to_string(rank).c_str(), 1);
      setenv("LOCAL_RANK", std::to_string(rank).c_str(), 1);
      setenv("WORLD_SIZE", std::to_string(nproc).c_str(), 1);
      setenv("MASTER_ADDR", "127.0.0.1", 1);
      setenv("MASTER_PORT", std::to_string(port).c_str(), 1);
      std::vector<char*> args;
      for (const std::string& a : argv) args.push_back(const_cast<char*>(a.c_str()));
      args.push_back(nullptr);
      execv("/proc/self/exe", args.data());
      _exit(127);
    }
    children.push_back(pid);
  }
  // If one process dies the others would wait forever in a collective: stop them all.
  int failed = 0;
  for (size_t done = 0; done < children.size(); ++done) {
    int status = 0;
    pid_t pid = waitpid(-1, &status, 0);
    if (pid < 0) break;
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
      if (failed++ == 0) {
        for (pid_t other : children) {
          if (other != pid) kill(other, SIGTERM);
        }
      }
    }
  }
  if (failed > 0) {
    return absl::InternalError(absl::StrFormat("%d of %d training processes failed", failed, nproc));
  }
  return absl::OkStatus();
}

}  // namespace tune::train

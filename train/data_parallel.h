// Data parallelism across processes with torch.distributed's c10d: every process holds the
// whole (frozen) base model and its own copy of the adapters; after backward the adapter
// gradients are summed across processes, so all copies take the same optimizer step.
//
// Processes are described by torchrun's environment variables: RANK, WORLD_SIZE,
// MASTER_ADDR, MASTER_PORT (LOCAL_RANK picks the GPU). Rank 0 writes all files. The backend is
// NCCL when training on CUDA and this LibTorch has it, Gloo otherwise (through host memory on
// a GPU).
#pragma once

#include <ATen/core/Tensor.h>

#include <memory>
#include <vector>

#include "absl/status/statusor.h"

namespace tune::train {

// LOCAL_RANK (this process's index on its machine, the CUDA device "cuda" means), 0 when unset.
absl::StatusOr<int> LocalRankFromEnvironment();

class DataParallel {
 public:
  // World of one when WORLD_SIZE is unset or 1. `device`: where the training tensors live.
  // InvalidArgument naming the variable when the environment is incomplete; Unimplemented when
  // this LibTorch build has no backend for the device.
  static absl::StatusOr<std::unique_ptr<DataParallel>> FromEnvironment(at::Device device);
  virtual ~DataParallel() = default;

  virtual int rank() const = 0;
  virtual int world_size() const = 0;
  // In-place sum over all processes (a no-op in a world of one); tensors may be on any device
  // and of any dtype.
  virtual absl::Status AllReduceSum(std::vector<at::Tensor>& tensors) = 0;
};

// Runs `nproc` copies of this program (argv, with --nproc removed by the caller) on this
// machine with RANK/WORLD_SIZE/MASTER_ADDR/MASTER_PORT set, waits for all, and fails if any
// copy failed. The `tune train --nproc N` launcher.
absl::Status LaunchLocalProcesses(const std::vector<std::string>& argv, int nproc);

}  // namespace tune::train

// Where the model computes: the CPU or one CUDA device, and what this build can do there.
//
// CUDA needs two things at build time: tune's NF4 kernels (nf4/nf4_kernels.cu, TUNE_CUDA) and a
// CUDA LibTorch (pip's 2.x). CMake defines TUNE_TORCH_CUDA only when both are present; a build
// without it runs on the CPU alone and says so when asked for "cuda".
#pragma once

#include <c10/core/Device.h>
#include <c10/core/ScalarType.h>

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"

namespace tune::model {

// True in builds with the CUDA path (TUNE_TORCH_CUDA).
bool CudaBuild();

// The spellings a device key accepts: "auto", "cpu", "cuda", "cuda:N".
bool IsDeviceSpec(std::string_view spec);
inline constexpr std::string_view kDeviceSpecs = "auto, cpu, cuda, cuda:N";

// Resolves a valid device spec against this build and machine. "auto" is CUDA when the build
// has it and a device is visible, else the CPU; "cuda" without an index takes
// `default_cuda_index` (LOCAL_RANK under torchrun). FailedPrecondition, naming `key` and the fix,
// when CUDA is asked for and the build lacks it, no device is visible, or the index is too high.
absl::StatusOr<c10::Device> ResolveDevice(std::string_view spec, int default_cuda_index,
                                          std::string_view key);

// "auto" | "f32" | "bf16" for compute and adapter dtypes.
inline const std::vector<std::string> kComputeDTypeNames = {"auto", "f32", "bf16"};
// "f32" -> kFloat, "bf16" -> kBFloat16, "auto" -> bf16 on CUDA and f32 on the CPU.
c10::ScalarType ResolveComputeDType(std::string_view name, c10::Device device);
// The other way: "bf16" for kBFloat16, else "f32" (for logs, run.json and fingerprints).
const char* ComputeDTypeName(c10::ScalarType dtype);

// Peak resident set size of this process, MiB (getrusage; Linux reports KiB).
double HostPeakRssMb();

struct DeviceMemory {
  double allocated_mb = 0;  // held by tensors now (CUDA caching allocator)
  double peak_mb = 0;       // the most held at once since the process started
};
// The CUDA caching allocator's statistics for `device`; nullopt for the CPU.
std::optional<DeviceMemory> DeviceMemoryStats(c10::Device device);

struct GpuInfo {
  int index = 0;
  std::string name;
  double total_mb = 0, free_mb = 0;  // cudaMemGetInfo
};
// The CUDA devices this build can train on, with their free memory (`tune doctor`); empty in a
// build without the CUDA path.
std::vector<GpuInfo> VisibleGpus();

}  // namespace tune::model

#include "model/device.h"

#include <sys/resource.h>
#include <torch/cuda.h>

#include "absl/strings/numbers.h"
#include "absl/strings/str_format.h"

#ifdef TUNE_TORCH_CUDA
#include "model/cuda_backend.h"
#endif

namespace tune::model {
namespace {

// The N of "cuda:N"; nullopt for "cuda".
std::optional<int> CudaIndex(std::string_view spec) {
  constexpr std::string_view kPrefix = "cuda:";
  int index = 0;
  if (spec.substr(0, kPrefix.size()) != kPrefix ||
      !absl::SimpleAtoi(std::string(spec.substr(kPrefix.size())), &index)) {
    return std::nullopt;
  }
  return index;
}

}  // namespace

bool CudaBuild() {
#ifdef TUNE_TORCH_CUDA
  return true;
#else
  return false;
#endif
}

bool IsDeviceSpec(std::string_view spec) {
  if (spec == "auto" || spec == "cpu" || spec == "cuda") return true;
  const std::optional<int> index = CudaIndex(spec);
  return index && *index >= 0;
}

absl::StatusOr<c10::Device> ResolveDevice(std::string_view spec, int default_cuda_index,
                                          std::string_view key) {
  if (spec == "cpu") return c10::Device(c10::kCPU);
  const int visible = CudaBuild() ? static_cast<int>(torch::cuda::device_count()) : 0;
  if (spec == "auto") {
    if (visible == 0) return c10::Device(c10::kCPU);
    spec = "cuda";
  }
  if (!CudaBuild()) {
    return absl::FailedPreconditionError(absl::StrFormat(
        "%s = \"%s\", but this build of tune has no CUDA (it needs a CUDA LibTorch and the NF4 "
        "kernels, TUNE_CUDA); hint: set %s = \"cpu\" or \"auto\", or build with "
        "scripts/build-gpu.sh (docs/gpu.md)",
        key, spec, key));
  }
  if (visible == 0) {
    return absl::FailedPreconditionError(absl::StrFormat(
        "%s = \"%s\", but no CUDA device is visible; hint: check nvidia-smi and "
        "CUDA_VISIBLE_DEVICES, or set %s = \"cpu\" or \"auto\"",
        key, spec, key));
  }
  const int index = CudaIndex(spec).value_or(default_cuda_index);
  if (index >= visible) {
    return absl::FailedPreconditionError(absl::StrFormat(
        "%s = \"%s\" selects CUDA device %d, but only %d %s visible; hint: choose an index below "
        "%d (LOCAL_RANK picks it for \"cuda\" under torchrun)",
        key, spec, index, visible, visible == 1 ? "is" : "are", visible));
  }
  return c10::Device(c10::kCUDA, static_cast<c10::DeviceIndex>(index));
}

c10::ScalarType ResolveComputeDType(std::string_view name, c10::Device device) {
  if (name == "bf16") return c10::kBFloat16;
  if (name == "f32") return c10::kFloat;
  return device.is_cuda() ? c10::kBFloat16 : c10::kFloat;
}

const char* ComputeDTypeName(c10::ScalarType dtype) {
  return dtype == c10::kBFloat16 ? "bf16" : "f32";
}

double HostPeakRssMb() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  return static_cast<double>(usage.ru_maxrss) / 1024.0;
}

std::vector<GpuInfo> VisibleGpus() {
#ifdef TUNE_TORCH_CUDA
  return cuda::Devices();
#else
  return {};
#endif
}

std::optional<DeviceMemory> DeviceMemoryStats(c10::Device device) {
#ifdef TUNE_TORCH_CUDA
  if (device.is_cuda()) return cuda::MemoryStats(device.index());
#endif
  (void)device;
  return std::nullopt;
}

}  // namespace tune::model

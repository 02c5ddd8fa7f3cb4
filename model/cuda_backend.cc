#include "model/cuda_backend.h"

#include <ATen/ATen.h>
#include <c10/cuda/CUDACachingAllocator.h>
#include <c10/cuda/CUDAGuard.h>
#include <c10/cuda/CUDAFunctions.h>
#include <c10/cuda/CUDAStream.h>
#include <cuda_runtime_api.h>

#include "nf4/nf4_cuda.h"

namespace tune::model::cuda {

at::Tensor DequantizeNf4(const DeviceNf4Buffers& w, int64_t rows, int64_t cols, at::ScalarType dtype) {
  TORCH_CHECK(rows * cols == w.layout.numel, "DequantizeNf4: shape [", rows, ", ", cols,
              "] does not hold ", w.layout.numel, " weights");
  const c10::Device device = w.packed.device();
  c10::cuda::CUDAGuard guard(device);
  // The current stream is the one autograd and every other op of this thread enqueue on, so the
  // result is ordered before its first use without a synchronization.
  cudaStream_t stream = c10::cuda::getCurrentCUDAStream(device.index()).stream();
  nf4::cuda::DeviceNf4Weights d{w.layout,
                                w.packed.data_ptr<uint8_t>(),
                                w.qabsmax.data_ptr<uint8_t>(),
                                w.absmax2.data_ptr<float>(),
                                w.nested_code.data_ptr<float>(),
                                w.offset};
  const bool bf16 = dtype == at::kBFloat16;
  at::Tensor out = at::empty({rows, cols}, w.packed.options().dtype(bf16 ? at::kBFloat16 : at::kFloat));
  const cudaError_t launched =
      bf16 ? nf4::cuda::DequantizeBf16(d, reinterpret_cast<uint16_t*>(out.data_ptr()), stream)
           : nf4::cuda::Dequantize(d, out.data_ptr<float>(), stream);
  TORCH_CHECK(launched == cudaSuccess, "NF4 dequantization kernel: ", cudaGetErrorString(launched));
  return out.scalar_type() == dtype ? out : out.to(dtype);
}

std::vector<GpuInfo> Devices() {
  std::vector<GpuInfo> out;
  const int count = static_cast<int>(c10::cuda::device_count());
  for (int i = 0; i < count; ++i) {
    c10::cuda::CUDAGuard guard(static_cast<c10::DeviceIndex>(i));
    size_t free = 0, total = 0;
    cudaDeviceProp prop{};
    if (cudaMemGetInfo(&free, &total) != cudaSuccess || cudaGetDeviceProperties(&prop, i) != cudaSuccess) continue;
    out.push_back({i, prop.name, static_cast<double>(total) / 1048576.0, static_cast<double>(free) / 1048576.0});
  }
  return out;
}

DeviceMemory MemoryStats(c10::DeviceIndex device) {
  const auto stats = c10::cuda::CUDACachingAllocator::getDeviceStats(device);
  // Index 0 is StatType::AGGREGATE (all pools); the enum's namespace moved between LibTorch
  // versions, its value did not.
  const auto& allocated = stats.allocated_bytes[0];
  constexpr double kMiB = 1024.0 * 1024.0;
  return {static_cast<double>(allocated.current) / kMiB, static_cast<double>(allocated.peak) / kMiB};
}

}  // namespace tune::model::cuda

// The LibTorch side of tune's CUDA code: NF4 dequantization with the kernels of nf4/nf4_cuda.h
// on LibTorch's current stream, and the caching allocator's memory statistics. Compiled only in
// builds with TUNE_TORCH_CUDA (tune's kernels and a CUDA LibTorch); callers guard their calls.
#pragma once

#include <ATen/core/Tensor.h>

#include "model/device.h"
#include "nf4/nf4.h"

namespace tune::model::cuda {

// One NF4 weight's buffers on a CUDA device (the fields of nf4::Nf4Weights as tensors).
struct DeviceNf4Buffers {
  nf4::Nf4Layout layout;
  at::Tensor packed;       // u8 [packed_bytes]
  at::Tensor qabsmax;      // u8 [num_blocks]
  at::Tensor absmax2;      // f32 [num_nested_blocks]
  at::Tensor nested_code;  // f32 [256]
  float offset = 0.0f;
};

// Dequantizes into a new (rows, cols) tensor of `dtype` on the buffers' device: bf16 and f32
// straight from the kernel, other dtypes from f32.
at::Tensor DequantizeNf4(const DeviceNf4Buffers& w, int64_t rows, int64_t cols, at::ScalarType dtype);

DeviceMemory MemoryStats(c10::DeviceIndex device);

// Every visible device's name and free / total memory.
std::vector<GpuInfo> Devices();

}  // namespace tune::model::cuda

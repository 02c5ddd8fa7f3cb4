// A frozen NF4 projection weight (QLoRA) on the model's device, dequantized on demand.
//
// Quantization always runs on the host (nf4/nf4.h, bitsandbytes-exact); Place() then keeps the
// 4-bit buffers where the model computes: as they are on the CPU, or copied to a CUDA device
// (and the host copy dropped) where the kernels of nf4/nf4_cuda.h dequantize them.
#pragma once

#include <ATen/core/Tensor.h>

#include <cstdint>
#include <memory>

#include "model/cuda_backend.h"
#include "nf4/nf4.h"

namespace tune::model {

class Nf4Weight {
 public:
  // q holds rows * cols weights of a row-major (rows, cols) matrix. A CUDA `device` needs a
  // build with TUNE_TORCH_CUDA (model/device.h); ResolveDevice never hands out one otherwise.
  static std::shared_ptr<const Nf4Weight> Place(nf4::Nf4Weights q, int64_t rows, int64_t cols,
                                                c10::Device device);

  // The (rows, cols) weight as a new tensor of `dtype` on device(): bf16 and f32 are produced
  // directly (bit-identical on CPU and GPU), other dtypes through f32.
  at::Tensor Dequantize(at::ScalarType dtype) const;

  c10::Device device() const { return device_; }

 private:
  Nf4Weight(int64_t rows, int64_t cols, c10::Device device) : rows_(rows), cols_(cols), device_(device) {}

  int64_t rows_;
  int64_t cols_;
  c10::Device device_;
  nf4::Nf4Weights host_;              // CPU: the weight itself
  cuda::DeviceNf4Buffers on_device_;  // CUDA: the same fields on the device (host_ is empty)
};

}  // namespace tune::model

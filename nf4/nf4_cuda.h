// CUDA dequantization of NF4 weights (layout in nf4/nf4.h), over raw device pointers so that the
// LibTorch NF4 Linear can dequantize into a scratch bf16 tensor on its own stream. Results are
// bit-identical to the CPU functions of the same name in nf4.h.
//
// Every function enqueues its work on `stream` and returns the launch status (it does not
// synchronize). Alignment, required for the vector loads/stores, else cudaErrorInvalidValue:
// `packed` 4 bytes, `out` 16 bytes (cudaMalloc and torch allocations are 256-byte aligned).
#pragma once

#include <cuda_runtime_api.h>

#include <cstdint>

#include "nf4/nf4.h"

namespace tune::nf4::cuda {

// A quantized tensor already copied to the device; every pointer is device memory with the
// sizes of nf4::Nf4Weights (nested_code: 256 floats).
struct DeviceNf4Weights {
  Nf4Layout layout;
  const uint8_t* packed = nullptr;
  const uint8_t* qabsmax = nullptr;
  const float* absmax2 = nullptr;
  const float* nested_code = nullptr;
  float offset = 0.0f;
};

// Weights -> bf16 bit patterns / f32, the nested absmax step fused in (layout.numel values).
cudaError_t DequantizeBf16(const DeviceNf4Weights& w, uint16_t* out, cudaStream_t stream);
cudaError_t Dequantize(const DeviceNf4Weights& w, float* out, cudaStream_t stream);

// The nested step alone: layout.num_blocks() f32 block absmax values.
cudaError_t DequantizeAbsmax(const DeviceNf4Weights& w, float* absmax_out, cudaStream_t stream);

// The weight step alone, from f32 block absmax values (a checkpoint without double quant).
cudaError_t DequantizeCodesBf16(const uint8_t* packed, const float* absmax, const Nf4Layout& layout,
                                uint16_t* out, cudaStream_t stream);
cudaError_t DequantizeCodes(const uint8_t* packed, const float* absmax, const Nf4Layout& layout,
                            float* out, cudaStream_t stream);

}  // namespace tune::nf4::cuda

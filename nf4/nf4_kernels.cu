// NF4 dequantization kernels. One thread per 8 weights:
//   packed  uint8[(N+1)/2]  -> thread g reads the 4 bytes [4g, 4g+4) as one u32 (coalesced: a
//                              warp reads 128 contiguous bytes)
//   out     bf16[N] / f32[N] -> thread g writes weights [8g, 8g+8): one 16-byte store for bf16,
//                              two for f32
// 8 divides every bnb block size (64..4096), so a thread's 8 weights share one block absmax,
// which it computes itself (nested step fused): 8 threads of a 64-block read the same qabsmax
// byte and absmax2 float through the read-only cache. The last thread handles a ragged tail
// (N not a multiple of 8) element by element.
// All f32 arithmetic uses __fmul_rn/__fadd_rn (and the target is built with --fmad=false) so
// that the result matches the CPU path and bnb bit for bit.
#include <cuda_bf16.h>

#include "nf4/nf4_cuda.h"

namespace tune::nf4::cuda {
namespace {

constexpr int kThreads = 256;
constexpr int kWeightsPerThread = 8;

// kNf4Code by value: kernel parameters live in constant memory, readable from device code.
struct Nf4Lut {
  float value[16];
};

Nf4Lut MakeLut() {
  Nf4Lut lut;
  for (int k = 0; k < 16; ++k) lut.value[k] = kNf4Code[k];
  return lut;
}

// Block absmax of a double-quantized tensor: nested_code[q] * absmax2 + offset, two roundings.
struct NestedAbsmax {
  const uint8_t* qabsmax;
  const float* absmax2;
  const float* nested_code;
  float offset;
  int nested_block;

  __device__ float operator()(int64_t b) const {
    const float code = __ldg(nested_code + __ldg(qabsmax + b));
    return __fadd_rn(__fmul_rn(code, __ldg(absmax2 + b / nested_block)), offset);
  }
};

// Block absmax stored as f32.
struct PlainAbsmax {
  const float* absmax;
  __device__ float operator()(int64_t b) const { return __ldg(absmax + b); }
};

__device__ inline uint16_t ToBf16Bits(float v) {
  return __bfloat16_as_ushort(__float2bfloat16_rn(v));
}

__device__ inline void Store8(float* out, int64_t first, const float (&v)[8]) {
  float4* dst = reinterpret_cast<float4*>(out + first);
  dst[0] = make_float4(v[0], v[1], v[2], v[3]);
  dst[1] = make_float4(v[4], v[5], v[6], v[7]);
}

__device__ inline void Store8(uint16_t* out, int64_t first, const float (&v)[8]) {
  uint32_t word[4];
  for (int k = 0; k < 4; ++k) {
    word[k] = uint32_t{ToBf16Bits(v[2 * k])} | uint32_t{ToBf16Bits(v[2 * k + 1])} << 16;
  }
  *reinterpret_cast<uint4*>(out + first) = make_uint4(word[0], word[1], word[2], word[3]);
}

__device__ inline void Store1(float* out, int64_t i, float v) { out[i] = v; }
__device__ inline void Store1(uint16_t* out, int64_t i, float v) { out[i] = ToBf16Bits(v); }

template <typename Out, typename Absmax>
__global__ void __launch_bounds__(kThreads)
    DequantizeKernel(Nf4Lut code, const uint8_t* __restrict__ packed, Absmax absmax, int64_t numel,
                     int block, Out* __restrict__ out) {
  // Shared, not constant memory: the 32 lanes of a warp index 16 different entries at once.
  __shared__ float lut[16];
  if (threadIdx.x < 16) lut[threadIdx.x] = code.value[threadIdx.x];
  __syncthreads();

  const int64_t g = static_cast<int64_t>(blockIdx.x) * kThreads + threadIdx.x;
  const int64_t first = g * kWeightsPerThread;
  if (first >= numel) return;
  const float scale = absmax(first / block);
  if (first + kWeightsPerThread <= numel) {
    const uint32_t bytes = __ldg(reinterpret_cast<const uint32_t*>(packed) + g);
    float v[8];
    for (int k = 0; k < 4; ++k) {
      const uint32_t byte = bytes >> (8 * k);  // little-endian: byte k holds weights 2k, 2k+1
      v[2 * k] = __fmul_rn(lut[(byte >> 4) & 0x0F], scale);
      v[2 * k + 1] = __fmul_rn(lut[byte & 0x0F], scale);
    }
    Store8(out, first, v);
    return;
  }
  for (int64_t i = first; i < numel; ++i) {
    const uint8_t byte = packed[i / 2];
    Store1(out, i, __fmul_rn(lut[i % 2 == 0 ? byte >> 4 : byte & 0x0F], scale));
  }
}

__global__ void DequantizeAbsmaxKernel(NestedAbsmax absmax, int64_t blocks, float* out) {
  const int64_t b = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x;
  if (b < blocks) out[b] = absmax(b);
}

bool Aligned(const void* p, uintptr_t alignment) {
  return reinterpret_cast<uintptr_t>(p) % alignment == 0;
}

unsigned Grid(int64_t work) { return static_cast<unsigned>((work + kThreads - 1) / kThreads); }

template <typename Out, typename Absmax>
cudaError_t Launch(const uint8_t* packed, Absmax absmax, const Nf4Layout& layout, Out* out,
                   cudaStream_t stream) {
  if (layout.block % kWeightsPerThread != 0 || !Aligned(packed, 4) || !Aligned(out, 16)) {
    return cudaErrorInvalidValue;
  }
  if (layout.numel == 0) return cudaSuccess;
  const int64_t groups = (layout.numel + kWeightsPerThread - 1) / kWeightsPerThread;
  DequantizeKernel<<<Grid(groups), kThreads, 0, stream>>>(MakeLut(), packed, absmax, layout.numel,
                                                          layout.block, out);
  return cudaGetLastError();
}

NestedAbsmax Nested(const DeviceNf4Weights& w) {
  return {w.qabsmax, w.absmax2, w.nested_code, w.offset, w.layout.nested_block};
}

}  // namespace

cudaError_t DequantizeBf16(const DeviceNf4Weights& w, uint16_t* out, cudaStream_t stream) {
  return Launch(w.packed, Nested(w), w.layout, out, stream);
}

cudaError_t Dequantize(const DeviceNf4Weights& w, float* out, cudaStream_t stream) {
  return Launch(w.packed, Nested(w), w.layout, out, stream);
}

cudaError_t DequantizeAbsmax(const DeviceNf4Weights& w, float* absmax_out, cudaStream_t stream) {
  const int64_t blocks = w.layout.num_blocks();
  if (blocks == 0) return cudaSuccess;
  DequantizeAbsmaxKernel<<<Grid(blocks), kThreads, 0, stream>>>(Nested(w), blocks, absmax_out);
  return cudaGetLastError();
}

cudaError_t DequantizeCodesBf16(const uint8_t* packed, const float* absmax, const Nf4Layout& layout,
                                uint16_t* out, cudaStream_t stream) {
  return Launch(packed, PlainAbsmax{absmax}, layout, out, stream);
}

cudaError_t DequantizeCodes(const uint8_t* packed, const float* absmax, const Nf4Layout& layout,
                            float* out, cudaStream_t stream) {
  return Launch(packed, PlainAbsmax{absmax}, layout, out, stream);
}

}  // namespace tune::nf4::cuda

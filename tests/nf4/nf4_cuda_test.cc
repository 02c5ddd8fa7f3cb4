// GPU dequantization against the CPU path, bit for bit. Cases that need a device skip when
// cudaGetDeviceCount finds none (CI); the argument checks run everywhere.
#include "nf4/nf4_cuda.h"

#include <cuda_runtime_api.h>

#include <cmath>
#include <random>
#include <vector>

#include "gtest/gtest.h"
#include "nf4/nf4.h"

namespace tune::nf4::cuda {
namespace {

bool HasGpu() {
  int devices = 0;
  const bool found = cudaGetDeviceCount(&devices) == cudaSuccess && devices > 0;
  cudaGetLastError();  // clear the "no device" error so it cannot leak into a later check
  return found;
}

// Evaluates `expr` once (it launches a kernel).
#define ASSERT_CUDA_OK(expr)                                      \
  do {                                                            \
    const cudaError_t status = (expr);                            \
    ASSERT_EQ(status, cudaSuccess) << cudaGetErrorString(status); \
  } while (0)

// A device copy of a host vector, freed with the object.
template <typename T>
class DeviceBuffer {
 public:
  explicit DeviceBuffer(size_t n) : n_(n) {
    EXPECT_EQ(cudaMalloc(reinterpret_cast<void**>(&ptr_), bytes()), cudaSuccess);
  }
  explicit DeviceBuffer(const std::vector<T>& host) : DeviceBuffer(host.size()) {
    EXPECT_EQ(cudaMemcpy(ptr_, host.data(), bytes(), cudaMemcpyHostToDevice), cudaSuccess);
  }
  DeviceBuffer(const DeviceBuffer&) = delete;
  DeviceBuffer& operator=(const DeviceBuffer&) = delete;
  ~DeviceBuffer() { cudaFree(ptr_); }

  T* get() const { return ptr_; }
  std::vector<T> ToHost() const {
    std::vector<T> host(n_);
    EXPECT_EQ(cudaMemcpy(host.data(), ptr_, bytes(), cudaMemcpyDeviceToHost), cudaSuccess);
    return host;
  }

 private:
  size_t bytes() const { return std::max<size_t>(1, n_) * sizeof(T); }
  size_t n_;
  T* ptr_ = nullptr;
};

Nf4Weights QuantizedGaussian(int64_t n) {
  std::mt19937 rng(42);
  std::normal_distribution<float> normal(0.0f, 0.02f);
  std::vector<float> w(n);
  for (float& x : w) x = normal(rng);
  w[n / 3] = 0.5f;  // an outlier block
  Nf4Weights q;
  Quantize(w.data(), n, &q);
  return q;
}

// Owns the device copy of a quantized tensor.
struct DeviceCopy {
  explicit DeviceCopy(const Nf4Weights& q)
      : packed(q.packed),
        qabsmax(q.qabsmax),
        absmax2(q.absmax2),
        code(std::vector<float>(q.nested_code.begin(), q.nested_code.end())) {}
  DeviceNf4Weights view(const Nf4Weights& q) const {
    return {q.layout, packed.get(), qabsmax.get(), absmax2.get(), code.get(), q.offset};
  }
  DeviceBuffer<uint8_t> packed;
  DeviceBuffer<uint8_t> qabsmax;
  DeviceBuffer<float> absmax2;
  DeviceBuffer<float> code;
};

// Sizes: several nested blocks, a partial 64-block, an odd count, and one below a thread's 8.
class DequantizeCudaTest : public ::testing::TestWithParam<int64_t> {};

TEST_P(DequantizeCudaTest, Bf16AndF32MatchTheCpuBitForBit) {
  if (!HasGpu()) GTEST_SKIP() << "no CUDA device: GPU dequantization is not exercised here";
  const Nf4Weights q = QuantizedGaussian(GetParam());
  const DeviceCopy dev(q);
  const int64_t n = q.layout.numel;

  std::vector<uint16_t> cpu_bf16(n);
  DequantizeBf16(q, cpu_bf16.data());
  DeviceBuffer<uint16_t> gpu_bf16(n);
  ASSERT_CUDA_OK(cuda::DequantizeBf16(dev.view(q), gpu_bf16.get(), nullptr));
  EXPECT_EQ(gpu_bf16.ToHost(), cpu_bf16);

  std::vector<float> cpu_f32(n);
  Dequantize(q, cpu_f32.data());
  DeviceBuffer<float> gpu_f32(n);
  ASSERT_CUDA_OK(cuda::Dequantize(dev.view(q), gpu_f32.get(), nullptr));
  EXPECT_EQ(gpu_f32.ToHost(), cpu_f32);

  std::vector<float> cpu_absmax(q.layout.num_blocks());
  DequantizeAbsmax(q, cpu_absmax.data());
  DeviceBuffer<float> gpu_absmax(cpu_absmax.size());
  ASSERT_CUDA_OK(cuda::DequantizeAbsmax(dev.view(q), gpu_absmax.get(), nullptr));
  EXPECT_EQ(gpu_absmax.ToHost(), cpu_absmax);

  // The two-step path (plain f32 absmax) gives the same weights.
  const DeviceBuffer<float> absmax(cpu_absmax);
  DeviceBuffer<uint16_t> two_step(n);
  ASSERT_CUDA_OK(
      cuda::DequantizeCodesBf16(dev.packed.get(), absmax.get(), q.layout, two_step.get(), nullptr));
  EXPECT_EQ(two_step.ToHost(), cpu_bf16);
  DeviceBuffer<float> two_step_f32(n);
  ASSERT_CUDA_OK(
      cuda::DequantizeCodes(dev.packed.get(), absmax.get(), q.layout, two_step_f32.get(), nullptr));
  EXPECT_EQ(two_step_f32.ToHost(), cpu_f32);
}

INSTANTIATE_TEST_SUITE_P(Sizes, DequantizeCudaTest,
                         ::testing::Values(int64_t{5}, int64_t{64 * 3 + 13},
                                           int64_t{3 * 16384 + 12345}, int64_t{4096} * 4096));

TEST(DequantizeCudaArgsTest, MisalignedPointersAreRejectedBeforeAnyLaunch) {
  // Needs no device: the wrappers check alignment before touching the GPU.
  const Nf4Layout layout{.numel = 128};
  const auto* packed = reinterpret_cast<const uint8_t*>(uintptr_t{0x1000});
  const auto* absmax = reinterpret_cast<const float*>(uintptr_t{0x2000});
  auto* out_bf16 = reinterpret_cast<uint16_t*>(uintptr_t{0x3002});
  EXPECT_EQ(cuda::DequantizeCodesBf16(packed, absmax, layout, out_bf16, nullptr),
            cudaErrorInvalidValue);
  auto* out_f32 = reinterpret_cast<float*>(uintptr_t{0x3000});
  EXPECT_EQ(cuda::DequantizeCodes(packed + 1, absmax, layout, out_f32, nullptr),
            cudaErrorInvalidValue);
  const Nf4Layout odd_block{.numel = 128, .block = 36};
  EXPECT_EQ(cuda::DequantizeCodes(packed, absmax, odd_block, out_f32, nullptr),
            cudaErrorInvalidValue);
}

}  // namespace
}  // namespace tune::nf4::cuda

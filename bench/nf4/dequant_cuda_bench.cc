// GPU NF4 dequantization speed against a device-to-device copy of the same output bytes.
//
//   tune_nf4_cuda_bench [--reps R]
//
// Same weight as tune_nf4_bench: one Llama-2-7B MLP projection, [11008, 4096], N(0, 0.02),
// quantized on the CPU and copied to the GPU. Each figure is the best of R (default 20) runs
// timed with CUDA events. Baseline: cudaMemcpyAsync device-to-device of as many bytes as the
// bf16 / f32 output (it reads them too, so a dequantizer, reading a quarter as many, can beat it).
// Prints GB/s of output and the dequant/copy time ratio; exits 0 with a note when no GPU.
#include <cuda_runtime_api.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <random>
#include <string>
#include <vector>

#include "bench/common/bench_util.h"
#include "nf4/nf4.h"
#include "nf4/nf4_cuda.h"

namespace {

void Check(cudaError_t status, const char* what) {
  if (status != cudaSuccess) {
    std::fprintf(stderr, "%s: %s\n", what, cudaGetErrorString(status));
    std::exit(1);
  }
}

template <typename T>
T* DeviceCopy(const T* host, size_t n) {
  void* ptr = nullptr;
  Check(cudaMalloc(&ptr, n * sizeof(T)), "cudaMalloc");
  if (host != nullptr) {
    Check(cudaMemcpy(ptr, host, n * sizeof(T), cudaMemcpyHostToDevice), "cudaMemcpy");
  }
  return static_cast<T*>(ptr);
}

// Best time in seconds of `reps` runs of `launch` on `stream`.
template <typename Fn>
double BestSeconds(int reps, cudaStream_t stream, Fn launch) {
  cudaEvent_t start, stop;
  Check(cudaEventCreate(&start), "cudaEventCreate");
  Check(cudaEventCreate(&stop), "cudaEventCreate");
  launch();  // warm-up
  double best = 1e30;
  for (int r = 0; r < reps; ++r) {
    Check(cudaEventRecord(start, stream), "cudaEventRecord");
    launch();
    Check(cudaEventRecord(stop, stream), "cudaEventRecord");
    Check(cudaEventSynchronize(stop), "cudaEventSynchronize");
    float ms = 0.0f;
    Check(cudaEventElapsedTime(&ms, start, stop), "cudaEventElapsedTime");
    best = std::min(best, ms / 1e3);
  }
  cudaEventDestroy(start);
  cudaEventDestroy(stop);
  return best;
}

}  // namespace

int main(int argc, char** argv) {
  int reps = 20;
  if (!tune::bench::ParseFlags(argc, argv, {{"--reps", &reps}})) return 2;
  int devices = 0;
  if (cudaGetDeviceCount(&devices) != cudaSuccess || devices == 0) {
    std::printf("no CUDA device: nothing to measure\n");
    return 0;
  }
  cudaDeviceProp prop;
  Check(cudaGetDeviceProperties(&prop, 0), "cudaGetDeviceProperties");

  constexpr int64_t kRows = 11008, kCols = 4096, n = kRows * kCols;
  std::vector<float> w(n);
  std::mt19937 rng(1);
  tune::bench::FillNormalWeights(w, rng);
  tune::nf4::Nf4Weights q;
  tune::nf4::Quantize(w.data(), n, &q);

  const tune::nf4::cuda::DeviceNf4Weights d{q.layout,
                                            DeviceCopy(q.packed.data(), q.packed.size()),
                                            DeviceCopy(q.qabsmax.data(), q.qabsmax.size()),
                                            DeviceCopy(q.absmax2.data(), q.absmax2.size()),
                                            DeviceCopy(q.nested_code.data(), q.nested_code.size()),
                                            q.offset};
  uint16_t* out_bf16 = DeviceCopy<uint16_t>(nullptr, n);
  float* out_f32 = DeviceCopy<float>(nullptr, n);
  char* src = DeviceCopy<char>(nullptr, n * 4);
  char* dst = DeviceCopy<char>(nullptr, n * 4);
  cudaStream_t stream;
  Check(cudaStreamCreate(&stream), "cudaStreamCreate");

  const double bf16_s = BestSeconds(reps, stream, [&] {
    Check(tune::nf4::cuda::DequantizeBf16(d, out_bf16, stream), "DequantizeBf16");
  });
  const double f32_s = BestSeconds(
      reps, stream, [&] { Check(tune::nf4::cuda::Dequantize(d, out_f32, stream), "Dequantize"); });
  const double copy_bf16_s = BestSeconds(reps, stream, [&] {
    Check(cudaMemcpyAsync(dst, src, n * 2, cudaMemcpyDeviceToDevice, stream), "copy");
  });
  const double copy_f32_s = BestSeconds(reps, stream, [&] {
    Check(cudaMemcpyAsync(dst, src, n * 4, cudaMemcpyDeviceToDevice, stream), "copy");
  });
  std::printf("%s, weight [%lld, %lld] = %.1f M params\n", prop.name, static_cast<long long>(kRows),
              static_cast<long long>(kCols), n / 1e6);
  std::printf("dequant->bf16 %7.1f us, %6.0f GB/s out (d2d copy %6.0f GB/s, time ratio %.2fx)\n",
              bf16_s * 1e6, n * 2 / bf16_s / 1e9, n * 2 / copy_bf16_s / 1e9, bf16_s / copy_bf16_s);
  std::printf("dequant->f32  %7.1f us, %6.0f GB/s out (d2d copy %6.0f GB/s, time ratio %.2fx)\n",
              f32_s * 1e6, n * 4 / f32_s / 1e9, n * 4 / copy_f32_s / 1e9, f32_s / copy_f32_s);
  return 0;
}

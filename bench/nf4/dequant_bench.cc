// CPU NF4 dequantization speed, against the cheapest thing that produces the same output bytes.
//
//   tune_nf4_bench [--threads T] [--reps R]
//
// The weight is one Llama-2-7B MLP projection, [11008, 4096] = 45.1 M weights of N(0, 0.02),
// quantized once (timed too). Each measurement is the best of R runs (default 5) on T threads
// (default: all cores), then on one thread. Baseline: memcpy of as many bytes as the bf16 /
// f32 output, from a warm buffer — a dequantizer can at best match it, since it writes the same
// bytes and reads a quarter as many. Prints GB/s of output and dequant/memcpy time ratios.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "bench/common/bench_util.h"
#include "nf4/nf4.h"

namespace {

using Clock = std::chrono::steady_clock;

template <typename Fn>
double BestSeconds(int reps, Fn fn) {
  double best = 1e30;
  for (int r = 0; r < reps; ++r) {
    const auto start = Clock::now();
    fn();
    best = std::min(best, tune::bench::SecondsSince(start));
  }
  return best;
}

}  // namespace

int main(int argc, char** argv) {
  int threads = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  int reps = 5;
  if (!tune::bench::ParseFlags(argc, argv, {{"--threads", &threads}, {"--reps", &reps}})) return 2;

  constexpr int64_t kRows = 11008, kCols = 4096, n = kRows * kCols;
  std::vector<float> w(n);
  std::mt19937 rng(1);
  tune::bench::FillNormalWeights(w, rng);

  tune::nf4::Nf4Weights q;
  const double quantize_s =
      BestSeconds(1, [&] { tune::nf4::Quantize(w.data(), n, &q, {}, {threads}); });
  std::printf(
      "weight [%lld, %lld] = %.1f M params -> %.1f MB NF4; quantize on %d threads: %.3f s "
      "(%.1f M params/s)\n",
      static_cast<long long>(kRows), static_cast<long long>(kCols), n / 1e6,
      q.layout.quantized_bytes() / 1e6, threads, quantize_s, n / quantize_s / 1e6);

  std::vector<uint16_t> out_bf16(n);
  std::vector<float> out_f32(n);
  std::vector<char> src(n * sizeof(float), 1), dst(n * sizeof(float));
  const double bf16_bytes = n * 2.0, f32_bytes = n * 4.0;
  for (int t : {threads, 1}) {
    const tune::nf4::ThreadOptions opts{t};
    const double bf16_s =
        BestSeconds(reps, [&] { tune::nf4::DequantizeBf16(q, out_bf16.data(), opts); });
    const double f32_s = BestSeconds(reps, [&] { tune::nf4::Dequantize(q, out_f32.data(), opts); });
    // memcpy is one thread; with several, split it the way the dequantizer splits its blocks.
    auto copy = [&](size_t bytes) {
      std::vector<std::thread> workers;
      const size_t per = (bytes + t - 1) / t;
      for (int k = 1; k < t; ++k) {
        const size_t begin = std::min(bytes, k * per), len = std::min(bytes, begin + per) - begin;
        workers.emplace_back(
            [&, begin, len] { std::memcpy(dst.data() + begin, src.data() + begin, len); });
      }
      std::memcpy(dst.data(), src.data(), std::min(bytes, per));
      for (auto& worker : workers) worker.join();
    };
    const double copy_bf16_s = BestSeconds(reps, [&] { copy(n * 2); });
    const double copy_f32_s = BestSeconds(reps, [&] { copy(n * 4); });
    std::printf(
        "%2d thread(s): dequant->bf16 %6.2f GB/s (memcpy %6.2f GB/s, time ratio %.2fx) | "
        "dequant->f32 %6.2f GB/s (memcpy %6.2f GB/s, time ratio %.2fx)\n",
        t, bf16_bytes / bf16_s / 1e9, bf16_bytes / copy_bf16_s / 1e9, bf16_s / copy_bf16_s,
        f32_bytes / f32_s / 1e9, f32_bytes / copy_f32_s / 1e9, f32_s / copy_f32_s);
  }
  return 0;
}

#include "nf4/nf4.h"

#include <algorithm>
#include <bit>
#include <cmath>
#include <thread>
#include <vector>

// Every f32 expression here is rounded operation by operation, as bnb's kernels and torch's ops
// are: the library is compiled with -ffp-contract=off so that no a * b + c becomes an FMA.

namespace tune::nf4 {
namespace {

// Below this many blocks per thread, starting a thread costs more than it saves.
constexpr int64_t kMinBlocksPerThread = 256;

// Runs fn(begin, end) over [0, count) split into contiguous ranges, one per thread.
template <typename Fn>
void ParallelFor(int64_t count, ThreadOptions options, Fn fn) {
  int64_t threads = options.num_threads > 0 ? options.num_threads
                                            : std::max(1u, std::thread::hardware_concurrency());
  threads = std::clamp<int64_t>(count / kMinBlocksPerThread, 1, threads);
  if (threads == 1) {
    fn(int64_t{0}, count);
    return;
  }
  std::vector<std::thread> workers;
  workers.reserve(threads - 1);
  const int64_t per = (count + threads - 1) / threads;
  for (int64_t t = 1; t < threads; ++t) {
    const int64_t begin = std::min(count, t * per);
    const int64_t end = std::min(count, begin + per);
    workers.emplace_back([=] { fn(begin, end); });
  }
  fn(int64_t{0}, std::min(count, per));
  for (std::thread& w : workers) w.join();
}

// torch.linspace(start, end, steps) in f32 on the CPU: the first half counts up from start, the
// second half down from end, so both endpoints are exact.
std::vector<float> Linspace(float start, float end, int steps) {
  const float step = (end - start) / static_cast<float>(steps - 1);
  std::vector<float> out(steps);
  for (int i = 0; i < steps; ++i) {
    out[i] = i < steps / 2 ? start + step * static_cast<float>(i)
                           : end - step * static_cast<float>(steps - i - 1);
  }
  return out;
}

std::array<float, 256> MakeDynamicMap() {
  // signed=True, max_exponent_bits=7, total_bits=8: exponent i in [0, 7) gets 2^i fractions,
  // each the midpoint of a linspace(0.1, 1) bucket scaled by 10^(i - 6), with both signs.
  constexpr int kMaxExponentBits = 7;
  std::vector<float> data;
  for (int i = 0; i < kMaxExponentBits; ++i) {
    const std::vector<float> bounds = Linspace(0.1f, 1.0f, (1 << i) + 1);
    // Python's 10 ** (i - 6) is a double that torch rounds to f32 before multiplying.
    const float scale = static_cast<float>(std::pow(10.0, i - (kMaxExponentBits - 1)));
    std::vector<float> negatives;
    for (size_t k = 0; k + 1 < bounds.size(); ++k) {
      const float mean = (bounds[k] + bounds[k + 1]) / 2.0f;
      const float value = scale * mean;
      data.push_back(value);
      negatives.push_back(-value);
    }
    data.insert(data.end(), negatives.begin(), negatives.end());
  }
  data.push_back(0.0f);
  data.push_back(1.0f);
  std::sort(data.begin(), data.end());
  std::array<float, 256> map;
  std::copy(data.begin(), data.end(), map.begin());
  return map;
}

// Returns 1 / absmax, or 0 for an all-zero block so that every weight lands on the zero code.
float Reciprocal(float absmax) { return absmax > 0.0f ? 1.0f / absmax : 0.0f; }

// bf16 bits of `value`, round to nearest even (inputs here are finite products).
inline uint16_t ToBf16(float value) {
  uint32_t u = std::bit_cast<uint32_t>(value);
  u += 0x7fffu + ((u >> 16) & 1u);
  return static_cast<uint16_t>(u >> 16);
}

inline float Bf16Bits(uint16_t bits) { return std::bit_cast<float>(uint32_t{bits} << 16); }

template <typename Load>
void QuantizeImpl(Load load, int64_t n, Nf4Weights* out, Nf4Layout layout, ThreadOptions threads) {
  layout.numel = n;
  out->layout = layout;
  out->packed.assign(layout.packed_bytes(), 0);
  out->qabsmax.assign(layout.num_blocks(), 0);
  out->absmax2.assign(layout.num_nested_blocks(), 0.0f);
  out->nested_code = DynamicMap();
  std::vector<float> absmax(layout.num_blocks());

  // Pass 1, per 64-weight block: absmax, then codes of w * (1 / absmax) (bnb multiplies by
  // the reciprocal; dividing would round differently).
  ParallelFor(layout.num_blocks(), threads, [&](int64_t b0, int64_t b1) {
    for (int64_t b = b0; b < b1; ++b) {
      const int64_t begin = b * layout.block;
      const int64_t end = std::min(n, begin + layout.block);
      float amax = 0.0f;
      for (int64_t i = begin; i < end; ++i) amax = std::max(amax, std::fabs(load(i)));
      absmax[b] = amax;
      const float recip = Reciprocal(amax);
      for (int64_t i = begin; i < end; i += 2) {
        const uint8_t hi = QuantizeNf4Value(load(i) * recip);
        // An odd numel's missing weight is a padded 0, as bnb's kernel loads it.
        const uint8_t lo = i + 1 < end ? QuantizeNf4Value(load(i + 1) * recip) : kNf4ZeroCode;
        out->packed[i / 2] = static_cast<uint8_t>(hi << 4 | lo);
      }
    }
  });

  // Pass 2, double quantization: absmax - mean, blockwise 8-bit over 256 blocks.
  double sum = 0.0;
  for (float a : absmax) sum += a;
  out->offset =
      absmax.empty() ? 0.0f : static_cast<float>(sum / static_cast<double>(absmax.size()));
  const int64_t nested = layout.nested_block;
  ParallelFor(layout.num_nested_blocks(), threads, [&](int64_t c0, int64_t c1) {
    for (int64_t c = c0; c < c1; ++c) {
      const int64_t begin = c * nested;
      const int64_t end = std::min<int64_t>(absmax.size(), begin + nested);
      float amax2 = 0.0f;
      for (int64_t b = begin; b < end; ++b)
        amax2 = std::max(amax2, std::fabs(absmax[b] - out->offset));
      out->absmax2[c] = amax2;
      const float recip = Reciprocal(amax2);
      for (int64_t b = begin; b < end; ++b) {
        out->qabsmax[b] = QuantizeDynamicValue(out->nested_code, (absmax[b] - out->offset) * recip);
      }
    }
  });
}

// Per block: the 16 dequantized values, then one table lookup per nibble.
template <typename T, typename Convert>
void DequantizeCodesImpl(const uint8_t* packed, const float* absmax, const Nf4Layout& layout,
                         T* out, ThreadOptions threads, Convert convert) {
  const int64_t n = layout.numel;
  ParallelFor(layout.num_blocks(), threads, [&](int64_t b0, int64_t b1) {
    for (int64_t b = b0; b < b1; ++b) {
      T table[16];
      for (int k = 0; k < 16; ++k) table[k] = convert(kNf4Code[k] * absmax[b]);
      const int64_t begin = b * layout.block;
      const int64_t count = std::min<int64_t>(n - begin, layout.block);
      // Restrict-qualified: uint8_t may alias anything, and without the promise every store to
      // `dst` would force `src` to be reloaded.
      const uint8_t* __restrict__ src = packed + begin / 2;
      T* __restrict__ dst = out + begin;
      for (int64_t j = 0; j < count / 2; ++j) {
        dst[2 * j] = table[src[j] >> 4];
        dst[2 * j + 1] = table[src[j] & 0x0F];
      }
      if (count % 2 != 0) dst[count - 1] = table[src[count / 2] >> 4];
    }
  });
}

template <typename T, typename DequantizeCodesFn>
void DequantizeImpl(const Nf4Weights& q, T* out, ThreadOptions threads, DequantizeCodesFn codes) {
  std::vector<float> absmax(q.layout.num_blocks());
  DequantizeAbsmax(q, absmax.data());
  codes(q.packed.data(), absmax.data(), q.layout, out, threads);
}

}  // namespace

const std::array<float, 256>& DynamicMap() {
  static const std::array<float, 256> map = MakeDynamicMap();
  return map;
}

uint8_t QuantizeNf4Value(float x) {
  // The thresholds are bnb's (kernels.cu dQuantizeNF4): midpoints of adjacent codes, computed in
  // double and rounded to f32; `x > t` sends a tie to the lower code. A NaN compares false
  // everywhere and lands on code 0, as in bnb.
  static constexpr float kThresholds[15] = {
      -0.8480964004993439f,  -0.6106329262256622f,  -0.4599952697753906f,   -0.33967943489551544f,
      -0.23460740596055984f, -0.13791173323988914f, -0.045525018125772476f, 0.03979014977812767f,
      0.1202552504837513f,   0.2035212516784668f,   0.2920137718319893f,    0.3893125355243683f,
      0.5016634166240692f,   0.6427869200706482f,   0.8614784181118011f,
  };
  // A branch-free count of thresholds below x equals the tree's answer for every x.
  uint8_t code = 0;
  for (float t : kThresholds) code += x > t;
  return code;
}

uint8_t QuantizeDynamicValue(const std::array<float, 256>& code, float x) {
  // bnb dQuantize<0>: a 7-step binary search from pivot 127 leaves `pivot` on an even index
  // with its neighbours as the last pivots passed on either side.
  int pivot = 127;
  int upper_pivot = 255;
  int lower_pivot = 0;
  float lower = -1.0f;
  float upper = 1.0f;
  float val = code[pivot];
  for (int i = 64; i > 0; i >>= 1) {
    if (x > val) {
      lower_pivot = pivot;
      lower = val;
      pivot += i;
    } else {
      upper_pivot = pivot;
      upper = val;
      pivot -= i;
    }
    val = code[pivot];
  }
  if (upper_pivot == 255) upper = code[upper_pivot];
  if (lower_pivot == 0) lower = code[lower_pivot];
  if (x > val) {
    const float midpoint = (upper + val) * 0.5f;
    return static_cast<uint8_t>(x > midpoint ? upper_pivot : pivot);
  }
  const float midpoint = (lower + val) * 0.5f;
  return static_cast<uint8_t>(x < midpoint ? lower_pivot : pivot);
}

void Quantize(const float* w, int64_t n, Nf4Weights* out, Nf4Layout layout, ThreadOptions threads) {
  QuantizeImpl([w](int64_t i) { return w[i]; }, n, out, layout, threads);
}

void QuantizeBf16(const uint16_t* w, int64_t n, Nf4Weights* out, Nf4Layout layout,
                  ThreadOptions threads) {
  QuantizeImpl([w](int64_t i) { return Bf16Bits(w[i]); }, n, out, layout, threads);
}

void DequantizeAbsmax(const Nf4Weights& q, float* absmax_out) {
  const int64_t blocks = q.layout.num_blocks();
  for (int64_t b = 0; b < blocks; ++b) {
    // Two roundings, as bnb's dequantize_blockwise kernel followed by `absmax += offset`.
    const float scaled = q.nested_code[q.qabsmax[b]] * q.absmax2[b / q.layout.nested_block];
    absmax_out[b] = scaled + q.offset;
  }
}

void DequantizeCodes(const uint8_t* packed, const float* absmax, const Nf4Layout& layout,
                     float* out, ThreadOptions threads) {
  DequantizeCodesImpl(packed, absmax, layout, out, threads, [](float v) { return v; });
}

void DequantizeCodesBf16(const uint8_t* packed, const float* absmax, const Nf4Layout& layout,
                         uint16_t* out, ThreadOptions threads) {
  DequantizeCodesImpl(packed, absmax, layout, out, threads, [](float v) { return ToBf16(v); });
}

void Dequantize(const Nf4Weights& q, float* out, ThreadOptions threads) {
  DequantizeImpl(q, out, threads, DequantizeCodes);
}

void DequantizeBf16(const Nf4Weights& q, uint16_t* out, ThreadOptions threads) {
  DequantizeImpl(q, out, threads, DequantizeCodesBf16);
}

}  // namespace tune::nf4

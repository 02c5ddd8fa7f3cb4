#include "nf4/nf4.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <limits>
#include <numbers>
#include <random>
#include <vector>

#include "formats/dtype.h"
#include "gtest/gtest.h"

namespace tune::nf4 {
namespace {

// N(0, sigma) samples from mt19937_64 (fully specified by the standard) via Box-Muller, so the
// data, and hence every exact expectation below, is the same on every platform.
std::vector<float> Gaussian(int64_t n, float sigma, uint64_t seed) {
  std::mt19937_64 rng(seed);
  auto uniform = [&rng] { return (static_cast<double>(rng() >> 11) + 0.5) * 0x1.0p-53; };
  std::vector<float> out(n);
  for (int64_t i = 0; i < n; i += 2) {
    const double r = std::sqrt(-2.0 * std::log(uniform()));
    const double t = 2.0 * std::numbers::pi * uniform();
    out[i] = static_cast<float>(sigma * r * std::cos(t));
    if (i + 1 < n) out[i + 1] = static_cast<float>(sigma * r * std::sin(t));
  }
  return out;
}

uint8_t Nibble(const Nf4Weights& q, int64_t i) {
  const uint8_t byte = q.packed[i / 2];
  return i % 2 == 0 ? byte >> 4 : byte & 0x0F;
}

// Standard normal quantile by Newton's method on erfc, in double.
double NormPpf(double p) {
  double x = 0.0;
  for (int it = 0; it < 100; ++it) {
    const double cdf = 0.5 * std::erfc(-x / std::numbers::sqrt2);
    const double pdf = std::exp(-0.5 * x * x) / std::sqrt(2.0 * std::numbers::pi);
    x -= (cdf - p) / pdf;
  }
  return x;
}

TEST(Nf4CodeTest, IsBnbNormalMapOfEightPositiveSevenNegativeQuantiles) {
  // create_normal_map(offset=0.9677083, use_extra_value=True), recomputed in double.
  std::vector<double> v = {0.0};
  for (int k = 0; k < 8; ++k) v.push_back(NormPpf(0.9677083 + (0.5 - 0.9677083) * k / 8.0));
  for (int k = 0; k < 7; ++k) v.push_back(-NormPpf(0.9677083 + (0.5 - 0.9677083) * k / 7.0));
  std::sort(v.begin(), v.end());
  const double max = v.back();
  ASSERT_EQ(v.size(), kNf4Code.size());
  for (size_t k = 0; k < v.size(); ++k) {
    EXPECT_NEAR(kNf4Code[k], v[k] / max, 2e-7) << "code " << k;
  }
  EXPECT_EQ(kNf4Code[kNf4ZeroCode], 0.0f);
  EXPECT_EQ(kNf4Code.front(), -1.0f);
  EXPECT_EQ(kNf4Code.back(), 1.0f);
}

TEST(DynamicMapTest, SortedSignedWithZeroOneAndMirroredHalves) {
  const std::array<float, 256>& map = DynamicMap();
  EXPECT_TRUE(std::is_sorted(map.begin(), map.end()));
  EXPECT_EQ(std::adjacent_find(map.begin(), map.end()), map.end()) << "values repeat";
  EXPECT_EQ(map[127], 0.0f);
  EXPECT_EQ(map[255], 1.0f);
  for (int i = 0; i < 255; ++i) EXPECT_EQ(map[i], -map[254 - i]) << i;
}

TEST(DynamicMapTest, KnownEntries) {
  const std::array<float, 256>& map = DynamicMap();
  // Exponent 10^-6 has one fraction: the middle of linspace(0.1, 1, 2) = 0.55.
  EXPECT_FLOAT_EQ(map[128], 0.55e-6f);
  // 10^-5: linspace(0.1, 1, 3) = {0.1, 0.55, 1} -> means 0.325, 0.775.
  EXPECT_FLOAT_EQ(map[129], 0.325e-5f);
  EXPECT_FLOAT_EQ(map[130], 0.775e-5f);
  // 10^-4: means of linspace(0.1, 1, 5).
  EXPECT_FLOAT_EQ(map[131], 0.2125e-4f);
  EXPECT_FLOAT_EQ(map[134], 0.8875e-4f);
  // 10^0: 64 means of linspace(0.1, 1, 65); the last is 1 - 0.9 / 128.
  EXPECT_FLOAT_EQ(map[191], (0.1f + 0.9f / 128));
  EXPECT_FLOAT_EQ(map[254], 1.0f - 0.9f / 128);
  EXPECT_FLOAT_EQ(map[0], -(1.0f - 0.9f / 128));
  // 2^i values per decade i: 64 of them in [0.1, 1).
  EXPECT_EQ(std::count_if(map.begin(), map.end(), [](float v) { return v >= 0.1f && v < 1.0f; }),
            64);
}

TEST(QuantizeNf4ValueTest, NearestCodeWithTiesToLowerAtBnbThresholds) {
  for (int k = 0; k < 16; ++k) EXPECT_EQ(QuantizeNf4Value(kNf4Code[k]), k);
  EXPECT_EQ(QuantizeNf4Value(-3.0f), 0);
  EXPECT_EQ(QuantizeNf4Value(3.0f), 15);
  // Two of bnb's thresholds (kernels.cu dQuantizeNF4): a value equal to one goes to the lower code.
  for (const auto& [t, k] : {std::pair{0.03979014977812767f, 7}, {0.8614784181118011f, 14}}) {
    EXPECT_EQ(QuantizeNf4Value(t), k);
    EXPECT_EQ(QuantizeNf4Value(std::nextafter(t, 2.0f)), k + 1);
  }
  // Every boundary is the midpoint of its two codes. bnb computed its thresholds from the codes
  // before they were rounded to f32, so a few sit an ulp or two off the f32 codes' midpoint.
  for (int k = 0; k < 15; ++k) {
    float lo = kNf4Code[k], hi = kNf4Code[k + 1];  // invariant: Q(lo) == k, Q(hi) == k + 1
    while (std::nextafter(lo, hi) != hi) {
      const float mid = lo + (hi - lo) / 2;
      (QuantizeNf4Value(mid) == k ? lo : hi) = mid == lo ? std::nextafter(lo, hi) : mid;
    }
    const double midpoint = (double{kNf4Code[k]} + kNf4Code[k + 1]) / 2.0;
    EXPECT_NEAR(lo, midpoint, 2.0 * std::abs(std::nextafter(lo, 2.0f) - lo)) << k;
  }
}

TEST(QuantizeDynamicValueTest, EveryEntryMapsToItself) {
  const std::array<float, 256>& map = DynamicMap();
  for (int i = 0; i < 256; ++i) EXPECT_EQ(QuantizeDynamicValue(map, map[i]), i);
  EXPECT_EQ(QuantizeDynamicValue(map, -1.0f), 0);
  EXPECT_EQ(QuantizeDynamicValue(map, 2.0f), 255);
}

TEST(QuantizeDynamicValueTest, MidpointTiesGoToTheEvenIndex) {
  const std::array<float, 256>& map = DynamicMap();
  for (int i = 0; i < 255; ++i) {
    const float mid = (map[i] + map[i + 1]) * 0.5f;
    if (mid == map[i] || mid == map[i + 1]) continue;  // adjacent f32 values: no midpoint
    EXPECT_EQ(QuantizeDynamicValue(map, mid), i % 2 == 0 ? i : i + 1) << i;
    EXPECT_EQ(QuantizeDynamicValue(map, std::nextafter(mid, 2.0f)), i + 1) << i;
    EXPECT_EQ(QuantizeDynamicValue(map, std::nextafter(mid, -2.0f)), i) << i;
  }
}

TEST(QuantizeTest, NibbleOrderHighThenLow) {
  // absmax 1: 1.0 -> code 15, -1.0 -> code 0, 0.08 -> code 8, 0 -> code 7.
  const std::vector<float> w = {1.0f, -1.0f, 0.08f, 0.0f};
  Nf4Weights q;
  Quantize(w.data(), w.size(), &q);
  ASSERT_EQ(q.packed.size(), 2u);
  EXPECT_EQ(q.packed[0], 0xF0);
  EXPECT_EQ(q.packed[1], 0x87);
}

TEST(QuantizeTest, OddNumelAndPartialTrailingBlock) {
  const int64_t n = 3 * 64 + 5;
  std::vector<float> w = Gaussian(n, 1.0f, 7);
  w[n - 1] = 9.0f;  // the last, partial block's absmax
  Nf4Weights q;
  Quantize(w.data(), n, &q);
  EXPECT_EQ(q.layout.numel, n);
  EXPECT_EQ(q.packed.size(), 99u);
  EXPECT_EQ(q.qabsmax.size(), 4u);
  EXPECT_EQ(q.absmax2.size(), 1u);
  EXPECT_EQ(q.packed.back() & 0x0F, kNf4ZeroCode) << "the padding weight is a quantized 0";
  EXPECT_EQ(Nibble(q, n - 1), 15);
  std::vector<float> absmax(4);
  DequantizeAbsmax(q, absmax.data());
  EXPECT_NEAR(absmax[3], 9.0f, 9.0f * 0.01f);
  std::vector<float> out(n, -123.0f);
  Dequantize(q, out.data());
  EXPECT_EQ(out[n - 1], absmax[3]);
  for (int64_t i = 0; i < n; ++i) EXPECT_NEAR(out[i], w[i], 0.3f * absmax[i / 64]) << i;
}

TEST(QuantizeTest, AllZeroBlockDequantizesToExactZeros) {
  std::vector<float> w = Gaussian(4 * 64, 1.0f, 3);
  std::fill(w.begin() + 64, w.begin() + 128, 0.0f);
  Nf4Weights q;
  Quantize(w.data(), w.size(), &q);
  for (int64_t j = 32; j < 64; ++j) EXPECT_EQ(q.packed[j], 0x77) << j;
  std::vector<float> out(w.size());
  Dequantize(q, out.data());
  for (int64_t i = 64; i < 128; ++i) EXPECT_EQ(out[i], 0.0f) << i;
}

TEST(QuantizeTest, AllZeroTensor) {
  const std::vector<float> w(1000, 0.0f);
  Nf4Weights q;
  Quantize(w.data(), w.size(), &q);
  EXPECT_EQ(q.offset, 0.0f);
  EXPECT_EQ(q.absmax2[0], 0.0f);
  std::vector<float> out(w.size(), 1.0f);
  Dequantize(q, out.data());
  EXPECT_EQ(out, w);
}

// The reference: the algorithm as the QLoRA paper and bnb describe it, written plainly (argmin
// over the codes in double, ties to the lower NF4 code / the even dynamic-map index).
struct Reference {
  std::vector<uint8_t> codes;  // one per weight, unpacked
  std::vector<uint8_t> qabsmax;
  std::vector<float> absmax2;
  float offset = 0.0f;
};

Reference ReferenceQuantize(const std::vector<float>& w) {
  const int64_t n = w.size();
  const int64_t blocks = (n + 63) / 64;
  Reference ref;
  std::vector<float> absmax(blocks, 0.0f);
  for (int64_t i = 0; i < n; ++i) absmax[i / 64] = std::max(absmax[i / 64], std::abs(w[i]));
  for (int64_t i = 0; i < n; ++i) {
    const float scaled = absmax[i / 64] == 0.0f ? 0.0f : w[i] * (1.0f / absmax[i / 64]);
    int best = 0;
    for (int k = 1; k < 16; ++k) {
      if (std::abs(double{scaled} - kNf4Code[k]) < std::abs(double{scaled} - kNf4Code[best]))
        best = k;
    }
    ref.codes.push_back(best);
  }
  double sum = 0.0;
  for (float a : absmax) sum += a;
  ref.offset = static_cast<float>(sum / blocks);
  const std::array<float, 256>& map = DynamicMap();
  for (int64_t c = 0; c * 256 < blocks; ++c) {
    float amax2 = 0.0f;
    for (int64_t b = c * 256; b < std::min(blocks, c * 256 + 256); ++b) {
      amax2 = std::max(amax2, std::abs(absmax[b] - ref.offset));
    }
    ref.absmax2.push_back(amax2);
    for (int64_t b = c * 256; b < std::min(blocks, c * 256 + 256); ++b) {
      const double x = (absmax[b] - ref.offset) * (1.0f / amax2);
      int best = 0;
      for (int j = 1; j < 256; ++j) {
        const double d = std::abs(x - map[j]), d_best = std::abs(x - map[best]);
        if (d < d_best || (d == d_best && j % 2 == 0)) best = j;
      }
      ref.qabsmax.push_back(best);
    }
  }
  return ref;
}

float BlockAbsmax(const std::vector<float>& w, int64_t i) {
  float amax = 0.0f;
  const int64_t begin = i / 64 * 64;
  for (int64_t j = begin; j < std::min<int64_t>(w.size(), begin + 64); ++j) {
    amax = std::max(amax, std::abs(w[j]));
  }
  return amax;
}

double Rmse(const std::vector<float>& a, const std::vector<float>& b) {
  double sum = 0.0;
  for (size_t i = 0; i < a.size(); ++i) sum += (double{a[i]} - b[i]) * (double{a[i]} - b[i]);
  return std::sqrt(sum / a.size());
}

TEST(RoundTripTest, GaussianWeightsMatchTheReferenceAlgorithmExactly) {
  // A [1024, 4096] projection with the spread of a trained LLM layer.
  const int64_t n = 1024 * 4096 + 33;  // plus a ragged, odd tail
  const float sigma = 0.02f;
  const std::vector<float> w = Gaussian(n, sigma, 2024);
  Nf4Weights q;
  Quantize(w.data(), n, &q);
  const Reference ref = ReferenceQuantize(w);

  // Codes agree except where a weight sits within an ulp or two of a midpoint, which bnb's
  // f32 thresholds and the exact argmin may resolve differently (both codes equally near).
  int64_t near_ties = 0;
  for (int64_t i = 0; i < n; ++i) {
    if (Nibble(q, i) == ref.codes[i]) continue;
    const float scaled = w[i] * (1.0f / BlockAbsmax(w, i));
    const double gap = std::abs(double{scaled} - kNf4Code[ref.codes[i]]) -
                       std::abs(double{scaled} - kNf4Code[Nibble(q, i)]);
    EXPECT_LE(std::abs(gap), 4.0 * std::numeric_limits<float>::epsilon()) << "weight " << i;
    ++near_ties;
  }
  EXPECT_LE(near_ties, n / 100000);
  EXPECT_EQ(q.qabsmax, ref.qabsmax);
  EXPECT_EQ(q.absmax2, ref.absmax2);
  EXPECT_EQ(q.offset, ref.offset);

  // The reference dequantizes with the plain formula.
  std::vector<float> ref_out(n);
  const std::array<float, 256>& map = DynamicMap();
  for (int64_t i = 0; i < n; ++i) {
    const int64_t b = i / 64;
    const float scaled = map[ref.qabsmax[b]] * ref.absmax2[b / 256];
    const float absmax = scaled + ref.offset;
    ref_out[i] = kNf4Code[ref.codes[i]] * absmax;
  }
  std::vector<float> out(n);
  Dequantize(q, out.data());
  int64_t differing = 0;
  for (int64_t i = 0; i < n; ++i) differing += out[i] != ref_out[i];
  EXPECT_EQ(differing, near_ties);
  const double rmse = Rmse(out, w);
  const double ref_rmse = Rmse(ref_out, w);
  EXPECT_NEAR(rmse, ref_rmse, 1e-7 * ref_rmse);  // a near tie moves the 8th digit
  const double bits = 8.0 * q.layout.quantized_bytes() / n;
  std::printf(
      "NF4 round trip, N(0, %.2f), %lld weights: RMSE %.9g (reference %.9g, %.4f sigma), "
      "%lld near-tie codes, %.4f bits/param\n",
      sigma, static_cast<long long>(n), rmse, ref_rmse, rmse / sigma,
      static_cast<long long>(near_ties), bits);
  EXPECT_LT(rmse / sigma, 0.11);  // NF4 at block 64 on Gaussian data: ~0.1 sigma
  EXPECT_NEAR(bits, 4.127, 0.001);
}

TEST(RoundTripTest, DoubleQuantizedAbsmaxIsCloseToTheTrueAbsmax) {
  const int64_t n = 512 * 4096;
  const std::vector<float> w = Gaussian(n, 0.02f, 11);
  Nf4Weights q;
  Quantize(w.data(), n, &q);
  std::vector<float> absmax(q.layout.num_blocks());
  DequantizeAbsmax(q, absmax.data());
  // The dynamic map's widest gap is 0.9/64 (its top decade), so rounding to it errs by at
  // most absmax2 * 0.9/128.
  double worst = 0.0;
  for (int64_t b = 0; b < q.layout.num_blocks(); ++b) {
    const float truth = BlockAbsmax(w, b * 64);
    const double err = std::abs(double{absmax[b]} - truth);
    EXPECT_LE(err, q.absmax2[b / 256] * (0.9 / 128) * (1 + 1e-5)) << "block " << b;
    worst = std::max(worst, err / truth);
  }
  std::printf("double-quantized absmax: max relative error %.4g\n", worst);
  EXPECT_LT(worst, 0.02);
}

TEST(ThreadingTest, ResultsDoNotDependOnThreadCount) {
  const int64_t n = 300 * 1000 + 1;
  const std::vector<float> w = Gaussian(n, 0.02f, 5);
  Nf4Weights one, many;
  Quantize(w.data(), n, &one, {}, {.num_threads = 1});
  Quantize(w.data(), n, &many, {}, {.num_threads = 7});
  EXPECT_EQ(one.packed, many.packed);
  EXPECT_EQ(one.qabsmax, many.qabsmax);
  EXPECT_EQ(one.absmax2, many.absmax2);
  EXPECT_EQ(one.offset, many.offset);
  std::vector<float> out1(n), out7(n);
  Dequantize(one, out1.data(), {.num_threads = 1});
  Dequantize(one, out7.data(), {.num_threads = 7});
  EXPECT_EQ(out1, out7);
  std::vector<uint16_t> bf1(n), bf7(n);
  DequantizeBf16(one, bf1.data(), {.num_threads = 1});
  DequantizeBf16(one, bf7.data(), {.num_threads = 7});
  EXPECT_EQ(bf1, bf7);
}

TEST(Bf16Test, Bf16OutputIsTheF32OutputRoundedToNearestEven) {
  const int64_t n = 64 * 1000 + 3;
  const std::vector<float> w = Gaussian(n, 1.0f, 9);
  Nf4Weights q;
  Quantize(w.data(), n, &q);
  std::vector<float> f32(n);
  std::vector<uint16_t> bf16(n);
  Dequantize(q, f32.data());
  DequantizeBf16(q, bf16.data());
  for (int64_t i = 0; i < n; ++i) ASSERT_EQ(bf16[i], formats::F32ToBf16(f32[i])) << i;
}

TEST(Bf16Test, QuantizeBf16EqualsQuantizeOfTheWidenedValues) {
  const int64_t n = 64 * 300 + 1;
  const std::vector<float> w = Gaussian(n, 0.02f, 13);
  std::vector<uint16_t> bits(n);
  std::vector<float> widened(n);
  for (int64_t i = 0; i < n; ++i) {
    bits[i] = formats::F32ToBf16(w[i]);
    widened[i] = formats::Bf16ToF32(bits[i]);
  }
  Nf4Weights from_bf16, from_f32;
  QuantizeBf16(bits.data(), n, &from_bf16);
  Quantize(widened.data(), n, &from_f32);
  EXPECT_EQ(from_bf16.packed, from_f32.packed);
  EXPECT_EQ(from_bf16.qabsmax, from_f32.qabsmax);
  EXPECT_EQ(from_bf16.absmax2, from_f32.absmax2);
  EXPECT_EQ(from_bf16.offset, from_f32.offset);
}

TEST(DequantizeCodesTest, PlainAbsmaxScalesEachCode) {
  // The path for checkpoints saved without double quantization: f32 absmax per block.
  const Nf4Layout layout{.numel = 129, .block = 64};
  std::vector<uint8_t> packed(layout.packed_bytes());
  for (size_t j = 0; j < packed.size(); ++j) packed[j] = static_cast<uint8_t>(j * 37);
  const std::vector<float> absmax = {0.5f, 2.0f, 3.0f};
  std::vector<float> out(layout.numel);
  DequantizeCodes(packed.data(), absmax.data(), layout, out.data());
  for (int64_t i = 0; i < layout.numel; ++i) {
    const uint8_t byte = packed[i / 2];
    const uint8_t code = i % 2 == 0 ? byte >> 4 : byte & 0x0F;
    EXPECT_EQ(out[i], kNf4Code[code] * absmax[i / 64]) << i;
  }
}

TEST(LayoutTest, ByteCountsOfA7BProjection) {
  const Nf4Layout layout{.numel = int64_t{4096} * 11008};
  EXPECT_EQ(layout.packed_bytes(), 22544384);
  EXPECT_EQ(layout.num_blocks(), 704512);
  EXPECT_EQ(layout.num_nested_blocks(), 2752);
  EXPECT_EQ(layout.quantized_bytes(), 22544384 + 704512 + 4 * 2752 + 4);
  const Nf4Layout block128{.numel = 1000, .block = 128, .nested_block = 256};
  EXPECT_EQ(block128.num_blocks(), 8);
  EXPECT_EQ(block128.num_nested_blocks(), 1);
}

}  // namespace
}  // namespace tune::nf4

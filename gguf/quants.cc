#include "gguf/quants.h"

#include <algorithm>
#include <cfloat>
#include <cmath>
#include <cstring>
#include <thread>

#include "absl/strings/str_format.h"
#include "core/status.h"
#include "formats/dtype.h"

// Bit-exactness with ggml depends on evaluating every float expression below exactly as
// written: tune_gguf is compiled with -ffp-contract=off (no FMA fusion), and the order of
// operations follows ggml-quants.c. Do not "simplify" the arithmetic.

namespace tune::gguf {
namespace {

constexpr float kGroupMaxEps = 1e-15f;  // GROUP_MAX_EPS
constexpr int kQK = 32;                 // QK4_0, QK5_0, QK5_1, QK8_0
constexpr int kQKK = 256;               // QK_K

// Block layouts of ggml-common.h; sizes are asserted against the on-disk type sizes.
struct BlockQ8_0 {
  static constexpr int kElems = kQK;
  uint16_t d;
  int8_t qs[kQK];
};
struct BlockQ4_0 {
  static constexpr int kElems = kQK;
  uint16_t d;
  uint8_t qs[kQK / 2];
};
struct BlockQ5_0 {
  static constexpr int kElems = kQK;
  uint16_t d;
  uint8_t qh[4];
  uint8_t qs[kQK / 2];
};
struct BlockQ5_1 {
  static constexpr int kElems = kQK;
  uint16_t d;
  uint16_t m;
  uint8_t qh[4];
  uint8_t qs[kQK / 2];
};
struct BlockQ4_K {
  static constexpr int kElems = kQKK;
  uint16_t d;
  uint16_t dmin;
  uint8_t scales[12];
  uint8_t qs[kQKK / 2];
};
struct BlockQ5_K {
  static constexpr int kElems = kQKK;
  uint16_t d;
  uint16_t dmin;
  uint8_t scales[12];
  uint8_t qh[kQKK / 8];
  uint8_t qs[kQKK / 2];
};
struct BlockQ6_K {
  static constexpr int kElems = kQKK;
  uint8_t ql[kQKK / 2];
  uint8_t qh[kQKK / 4];
  int8_t scales[kQKK / 16];
  uint16_t d;
};
static_assert(sizeof(BlockQ8_0) == 34 && sizeof(BlockQ4_0) == 18 && sizeof(BlockQ5_0) == 22 &&
              sizeof(BlockQ5_1) == 24 && sizeof(BlockQ4_K) == 144 && sizeof(BlockQ5_K) == 176 &&
              sizeof(BlockQ6_K) == 210);

uint16_t Half(float f) { return formats::F32ToF16(f); }
float Float(uint16_t h) { return formats::F16ToF32(h); }

// ggml's nearest_int: round half to even through the float adder, valid for |f| <= 2^22.
int NearestInt(float f) {
  float v = f + 12582912.f;
  int32_t i;
  std::memcpy(&i, &v, sizeof(i));
  return (i & 0x007fffff) - 0x00400000;
}

// ---- 32-element blocks ---------------------------------------------------------------------

// Symmetric 2^bits-level codes as in quantize_row_q{4,5}_0_ref: the signed value of largest
// magnitude maps to code 0. Returns d; L gets codes in [0, levels).
float SymmetricCodes(const float* x, int levels, uint8_t* L) {
  float amax = 0.0f;
  float max = 0.0f;
  for (int j = 0; j < kQK; ++j) {
    if (amax < std::fabs(x[j])) {
      amax = std::fabs(x[j]);
      max = x[j];
    }
  }
  const float d = max / static_cast<float>(-levels / 2);
  const float id = d != 0.0f ? 1.0f / d : 0.0f;
  const float offset = static_cast<float>(levels / 2) + 0.5f;
  for (int j = 0; j < kQK; ++j) {
    L[j] = static_cast<uint8_t>(std::min(levels - 1, int{static_cast<int8_t>(x[j] * id + offset)}));
  }
  return d;
}

// Low nibbles hold elements 0..15, high nibbles 16..31; bit 4 of element j goes to qh bit j.
void PackNibbles(const uint8_t* L, uint8_t* qs) {
  for (int j = 0; j < kQK / 2; ++j) qs[j] = (L[j] & 0xF) | ((L[j + kQK / 2] & 0xF) << 4);
}
void PackHighBits(const uint8_t* L, uint8_t* qh) {
  uint32_t bits = 0;
  for (int j = 0; j < kQK; ++j) bits |= static_cast<uint32_t>((L[j] >> 4) & 1) << j;
  std::memcpy(qh, &bits, sizeof(bits));
}
// Inverse of the two packers: the 4- or 5-bit code of each element.
void UnpackCodes(const uint8_t* qs, const uint8_t* qh, int* codes) {
  uint32_t bits = 0;
  if (qh != nullptr) std::memcpy(&bits, qh, sizeof(bits));
  for (int j = 0; j < kQK / 2; ++j) {
    codes[j] = (qs[j] & 0xF) | static_cast<int>(((bits >> j) & 1) << 4);
    codes[j + kQK / 2] = (qs[j] >> 4) | static_cast<int>(((bits >> (j + kQK / 2)) & 1) << 4);
  }
}

void Quantize(const float* x, BlockQ8_0& b) {
  float amax = 0.0f;
  for (int j = 0; j < kQK; ++j) amax = std::max(amax, std::fabs(x[j]));
  const float d = amax / 127.0f;
  const float id = d != 0.0f ? 1.0f / d : 0.0f;
  b.d = Half(d);
  for (int j = 0; j < kQK; ++j) b.qs[j] = static_cast<int8_t>(std::round(x[j] * id));
}
void Dequantize(const BlockQ8_0& b, float* y) {
  const float d = Float(b.d);
  for (int j = 0; j < kQK; ++j) y[j] = b.qs[j] * d;
}

void Quantize(const float* x, BlockQ4_0& b) {
  uint8_t L[kQK];
  b.d = Half(SymmetricCodes(x, 16, L));
  PackNibbles(L, b.qs);
}
void Dequantize(const BlockQ4_0& b, float* y) {
  const float d = Float(b.d);
  int codes[kQK];
  UnpackCodes(b.qs, nullptr, codes);
  for (int j = 0; j < kQK; ++j) y[j] = (codes[j] - 8) * d;
}

void Quantize(const float* x, BlockQ5_0& b) {
  uint8_t L[kQK];
  b.d = Half(SymmetricCodes(x, 32, L));
  PackNibbles(L, b.qs);
  PackHighBits(L, b.qh);
}
void Dequantize(const BlockQ5_0& b, float* y) {
  const float d = Float(b.d);
  int codes[kQK];
  UnpackCodes(b.qs, b.qh, codes);
  for (int j = 0; j < kQK; ++j) y[j] = (codes[j] - 16) * d;
}

void Quantize(const float* x, BlockQ5_1& b) {
  float min = FLT_MAX;
  float max = -FLT_MAX;
  for (int j = 0; j < kQK; ++j) {
    min = std::min(min, x[j]);
    max = std::max(max, x[j]);
  }
  const float d = (max - min) / 31.0f;
  const float id = d != 0.0f ? 1.0f / d : 0.0f;
  b.d = Half(d);
  b.m = Half(min);
  uint8_t L[kQK];
  for (int j = 0; j < kQK; ++j) L[j] = static_cast<uint8_t>((x[j] - min) * id + 0.5f);
  PackNibbles(L, b.qs);
  PackHighBits(L, b.qh);
}
void Dequantize(const BlockQ5_1& b, float* y) {
  const float d = Float(b.d);
  const float m = Float(b.m);
  int codes[kQK];
  UnpackCodes(b.qs, b.qh, codes);
  for (int j = 0; j < kQK; ++j) y[j] = codes[j] * d + m;
}

// ---- k-quants: 256-element super-blocks ----------------------------------------------------

// make_qkx2_quants (use_mad = false): weighted least-squares fit of x ~ scale * L - the_min over
// a sweep of candidate scales. Returns the scale; *the_min is positive.
float MakeQkx2Quants(int n, int nmax, const float* x, const float* weights, uint8_t* L,
                     float* the_min, uint8_t* Laux, float rmin, float rdelta, int nstep) {
  float min = x[0];
  float max = x[0];
  float sum_w = weights[0];
  float sum_x = sum_w * x[0];
  for (int i = 1; i < n; ++i) {
    if (x[i] < min) min = x[i];
    if (x[i] > max) max = x[i];
    float w = weights[i];
    sum_w += w;
    sum_x += w * x[i];
  }
  if (min > 0) min = 0;
  if (max == min) {
    std::fill(L, L + n, 0);
    *the_min = -min;
    return 0.0f;
  }
  float iscale = nmax / (max - min);
  float scale = 1 / iscale;
  float best_error = 0;
  for (int i = 0; i < n; ++i) {
    int l = NearestInt(iscale * (x[i] - min));
    L[i] = static_cast<uint8_t>(std::max(0, std::min(nmax, l)));
    float diff = scale * L[i] + min - x[i];
    best_error += weights[i] * (diff * diff);
  }
  for (int is = 0; is <= nstep; ++is) {
    iscale = (rmin + rdelta * is + nmax) / (max - min);
    float sum_l = 0, sum_l2 = 0, sum_xl = 0;
    for (int i = 0; i < n; ++i) {
      int l = std::max(0, std::min(nmax, NearestInt(iscale * (x[i] - min))));
      Laux[i] = static_cast<uint8_t>(l);
      float w = weights[i];
      sum_l += w * l;
      sum_l2 += w * l * l;
      sum_xl += w * l * x[i];
    }
    float D = sum_w * sum_l2 - sum_l * sum_l;
    if (D > 0) {
      float this_scale = (sum_w * sum_xl - sum_x * sum_l) / D;
      float this_min = (sum_l2 * sum_x - sum_l * sum_xl) / D;
      if (this_min > 0) {
        this_min = 0;
        this_scale = sum_xl / sum_l2;
      }
      float error = 0;
      for (int i = 0; i < n; ++i) {
        float diff = this_scale * Laux[i] + this_min - x[i];
        error += weights[i] * (diff * diff);
      }
      if (error < best_error) {
        std::copy(Laux, Laux + n, L);
        best_error = error;
        scale = this_scale;
        min = this_min;
      }
    }
  }
  *the_min = -min;
  return scale;
}

// get_scale_min_k4: 6-bit scale and min of sub-block j from the 12 packed bytes.
void ScaleMinK4(int j, const uint8_t* q, int* sc, int* m) {
  if (j < 4) {
    *sc = q[j] & 63;
    *m = q[j + 4] & 63;
  } else {
    *sc = (q[j + 4] & 0xF) | ((q[j - 4] >> 6) << 4);
    *m = (q[j + 4] >> 4) | ((q[j] >> 6) << 4);
  }
}

// Shared by Q4_K and Q5_K (quantize_row_q{4,5}_K_ref up to the bit packing): fits the eight
// 32-element sub-blocks, stores the 6-bit scales/mins and fp16 d/dmin, and leaves the final
// codes in L[256], in [0, nmax].
void QuantizeScaleMinK(const float* x, int nmax, float rmin, int nstep, uint16_t* d_out,
                       uint16_t* dmin_out, uint8_t* packed, uint8_t* L) {
  float scales[kQKK / 32];
  float mins[kQKK / 32];
  float weights[32];
  uint8_t Laux[32];
  float max_scale = 0;
  float max_min = 0;
  for (int j = 0; j < kQKK / 32; ++j) {
    float sum_x2 = 0;
    for (int l = 0; l < 32; ++l) sum_x2 += x[32 * j + l] * x[32 * j + l];
    float av_x = std::sqrt(sum_x2 / 32);
    for (int l = 0; l < 32; ++l) weights[l] = av_x + std::fabs(x[32 * j + l]);
    scales[j] = MakeQkx2Quants(32, nmax, x + 32 * j, weights, L + 32 * j, &mins[j], Laux, rmin,
                               0.1f, nstep);
    if (scales[j] > max_scale) max_scale = scales[j];
    if (mins[j] > max_min) max_min = mins[j];
  }
  float inv_scale = max_scale > 0 ? 63.f / max_scale : 0.f;
  float inv_min = max_min > 0 ? 63.f / max_min : 0.f;
  std::memset(packed, 0, 12);
  for (int j = 0; j < kQKK / 32; ++j) {
    uint8_t ls = std::min<uint8_t>(63, static_cast<uint8_t>(NearestInt(inv_scale * scales[j])));
    uint8_t lm = std::min<uint8_t>(63, static_cast<uint8_t>(NearestInt(inv_min * mins[j])));
    if (j < 4) {
      packed[j] = ls;
      packed[j + 4] = lm;
    } else {
      packed[j + 4] = (ls & 0xF) | ((lm & 0xF) << 4);
      packed[j - 4] |= (ls >> 4) << 6;
      packed[j] |= (lm >> 4) << 6;
    }
  }
  *d_out = Half(max_scale / 63.f);
  *dmin_out = Half(max_min / 63.f);
  // Requantize against the rounded scales actually stored.
  for (int j = 0; j < kQKK / 32; ++j) {
    int sc, m;
    ScaleMinK4(j, packed, &sc, &m);
    const float d = Float(*d_out) * sc;
    if (d == 0.0f) continue;
    const float dm = Float(*dmin_out) * m;
    for (int ii = 0; ii < 32; ++ii) {
      int l = NearestInt((x[32 * j + ii] + dm) / d);
      L[32 * j + ii] = static_cast<uint8_t>(std::max(0, std::min(nmax, l)));
    }
  }
}

// Shared dequantization of Q4_K/Q5_K: code(i) gives the 4- or 5-bit code of element i.
template <typename Block, typename CodeFn>
void DequantizeScaleMinK(const Block& b, float* y, CodeFn code) {
  const float d = Float(b.d);
  const float dmin = Float(b.dmin);
  for (int j = 0; j < kQKK / 32; ++j) {
    int sc, m;
    ScaleMinK4(j, b.scales, &sc, &m);
    const float d1 = d * sc;
    const float m1 = dmin * m;
    for (int l = 0; l < 32; ++l) y[32 * j + l] = d1 * code(32 * j + l) - m1;
  }
}

void Quantize(const float* x, BlockQ4_K& b) {
  uint8_t L[kQKK];
  QuantizeScaleMinK(x, 15, -1.0f, 20, &b.d, &b.dmin, b.scales, L);
  // Each 64-element chunk c: byte 32c+l holds element 64c+l (low) and 64c+32+l (high).
  for (int c = 0; c < kQKK / 64; ++c) {
    for (int l = 0; l < 32; ++l) b.qs[32 * c + l] = L[64 * c + l] | (L[64 * c + 32 + l] << 4);
  }
}
void Dequantize(const BlockQ4_K& b, float* y) {
  DequantizeScaleMinK(b, y, [&](int i) {
    const int c = i / 64, l = i % 32;
    const uint8_t q = b.qs[32 * c + l];
    return (i % 64) < 32 ? (q & 0xF) : (q >> 4);
  });
}

void Quantize(const float* x, BlockQ5_K& b) {
  uint8_t L[kQKK];
  QuantizeScaleMinK(x, 31, -0.5f, 15, &b.d, &b.dmin, b.scales, L);
  std::memset(b.qh, 0, sizeof(b.qh));
  for (int c = 0; c < kQKK / 64; ++c) {
    for (int l = 0; l < 32; ++l) {
      int l1 = L[64 * c + l];
      int l2 = L[64 * c + 32 + l];
      if (l1 > 15) {
        l1 -= 16;
        b.qh[l] |= 1 << (2 * c);
      }
      if (l2 > 15) {
        l2 -= 16;
        b.qh[l] |= 2 << (2 * c);
      }
      b.qs[32 * c + l] = static_cast<uint8_t>(l1 | (l2 << 4));
    }
  }
}
void Dequantize(const BlockQ5_K& b, float* y) {
  DequantizeScaleMinK(b, y, [&](int i) {
    const int c = i / 64, l = i % 32, high = (i % 64) < 32 ? 0 : 1;
    const uint8_t q = b.qs[32 * c + l];
    const int low = high ? (q >> 4) : (q & 0xF);
    return low + (((b.qh[l] >> (2 * c + high)) & 1) << 4);
  });
}

// make_qx_quants with rmse_type 1 (weights x^2), no importance weights: symmetric codes
// L in [0, 2*nmax) around nmax; returns the signed scale.
float MakeQxQuants(int n, int nmax, const float* x, int8_t* L) {
  float max = 0;
  float amax = 0;
  for (int i = 0; i < n; ++i) {
    float ax = std::fabs(x[i]);
    if (ax > amax) {
      amax = ax;
      max = x[i];
    }
  }
  if (amax < kGroupMaxEps) {
    std::fill(L, L + n, 0);
    return 0.f;
  }
  auto code = [nmax](float v) { return std::max(-nmax, std::min(nmax - 1, NearestInt(v))); };
  float iscale = -nmax / max;
  float sumlx = 0;
  float suml2 = 0;
  for (int i = 0; i < n; ++i) {
    int l = code(iscale * x[i]);
    L[i] = static_cast<int8_t>(l + nmax);
    float w = x[i] * x[i];
    sumlx += w * x[i] * l;
    suml2 += w * l * l;
  }
  float scale = suml2 != 0.0f ? sumlx / suml2 : 0.0f;
  float best = scale * sumlx;
  for (int is = -9; is <= 9; ++is) {
    if (is == 0) continue;
    iscale = -(nmax + 0.1f * is) / max;
    sumlx = suml2 = 0;
    for (int i = 0; i < n; ++i) {
      int l = code(iscale * x[i]);
      float w = x[i] * x[i];
      sumlx += w * x[i] * l;
      suml2 += w * l * l;
    }
    if (suml2 > 0 && sumlx * sumlx > best * suml2) {
      for (int i = 0; i < n; ++i) L[i] = static_cast<int8_t>(nmax + code(iscale * x[i]));
      scale = sumlx / suml2;
      best = scale * sumlx;
    }
  }
  return scale;
}

void Quantize(const float* x, BlockQ6_K& b) {
  int8_t L[kQKK];
  float scales[kQKK / 16];
  float max_scale = 0;
  float max_abs_scale = 0;
  for (int ib = 0; ib < kQKK / 16; ++ib) {
    scales[ib] = MakeQxQuants(16, 32, x + 16 * ib, L + 16 * ib);
    const float abs_scale = std::fabs(scales[ib]);
    if (abs_scale > max_abs_scale) {
      max_abs_scale = abs_scale;
      max_scale = scales[ib];
    }
  }
  if (max_abs_scale < kGroupMaxEps) {
    std::memset(&b, 0, sizeof(b));
    b.d = Half(0.f);
    return;
  }
  float iscale = -128.f / max_scale;
  b.d = Half(1 / iscale);
  for (int ib = 0; ib < kQKK / 16; ++ib) {
    b.scales[ib] = static_cast<int8_t>(std::min(127, NearestInt(iscale * scales[ib])));
  }
  for (int j = 0; j < kQKK / 16; ++j) {
    float d = Float(b.d) * b.scales[j];
    if (d == 0.0f) continue;
    for (int ii = 0; ii < 16; ++ii) {
      int l = std::max(-32, std::min(31, NearestInt(x[16 * j + ii] / d)));
      L[16 * j + ii] = static_cast<int8_t>(l + 32);
    }
  }
  // Each 128-element half h: ql holds low nibbles (elements l, l+32 low; l+64, l+96 high),
  // qh the two top bits of the four elements l, l+32, l+64, l+96.
  for (int h = 0; h < 2; ++h) {
    const int8_t* Lh = L + 128 * h;
    uint8_t* ql = b.ql + 64 * h;
    uint8_t* qh = b.qh + 32 * h;
    for (int l = 0; l < 32; ++l) {
      ql[l] = (Lh[l] & 0xF) | ((Lh[l + 64] & 0xF) << 4);
      ql[l + 32] = (Lh[l + 32] & 0xF) | ((Lh[l + 96] & 0xF) << 4);
      qh[l] = (Lh[l] >> 4) | ((Lh[l + 32] >> 4) << 2) | ((Lh[l + 64] >> 4) << 4) |
              ((Lh[l + 96] >> 4) << 6);
    }
  }
}
void Dequantize(const BlockQ6_K& b, float* y) {
  const float d = Float(b.d);
  for (int h = 0; h < 2; ++h) {
    const uint8_t* ql = b.ql + 64 * h;
    const uint8_t* qh = b.qh + 32 * h;
    const int8_t* sc = b.scales + 8 * h;
    float* yh = y + 128 * h;
    for (int l = 0; l < 32; ++l) {
      const int is = l / 16;
      const int q1 = ((ql[l] & 0xF) | (((qh[l] >> 0) & 3) << 4)) - 32;
      const int q2 = ((ql[l + 32] & 0xF) | (((qh[l] >> 2) & 3) << 4)) - 32;
      const int q3 = ((ql[l] >> 4) | (((qh[l] >> 4) & 3) << 4)) - 32;
      const int q4 = ((ql[l + 32] >> 4) | (((qh[l] >> 6) & 3) << 4)) - 32;
      yh[l] = d * sc[is + 0] * q1;
      yh[l + 32] = d * sc[is + 2] * q2;
      yh[l + 64] = d * sc[is + 4] * q3;
      yh[l + 96] = d * sc[is + 6] * q4;
    }
  }
}

// ---- row dispatch --------------------------------------------------------------------------

template <typename Block>
void QuantizeBlocks(std::span<const float> x, uint8_t* out) {
  for (size_t i = 0; i < x.size() / Block::kElems; ++i) {
    Block b{};
    Quantize(x.data() + i * Block::kElems, b);
    std::memcpy(out + i * sizeof(Block), &b, sizeof(Block));
  }
}

template <typename Block>
void DequantizeBlocks(const uint8_t* in, std::span<float> y) {
  for (size_t i = 0; i < y.size() / Block::kElems; ++i) {
    Block b;
    std::memcpy(&b, in + i * sizeof(Block), sizeof(Block));
    Dequantize(b, y.data() + i * Block::kElems);
  }
}

template <typename Bits, Bits (*Encode)(float)>
void EncodeFloats(std::span<const float> x, uint8_t* out) {
  for (size_t i = 0; i < x.size(); ++i) {
    const Bits v = Encode(x[i]);
    std::memcpy(out + i * sizeof(Bits), &v, sizeof(Bits));
  }
}

template <typename Bits, float (*Decode)(Bits)>
void DecodeFloats(const uint8_t* in, std::span<float> y) {
  for (size_t i = 0; i < y.size(); ++i) {
    Bits v;
    std::memcpy(&v, in + i * sizeof(Bits), sizeof(Bits));
    y[i] = Decode(v);
  }
}

absl::StatusOr<int64_t> CheckRowLength(GgmlType type, int64_t row_length) {
  if (row_length <= 0 || row_length % GgmlBlockSize(type) != 0) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "row length %d is not a positive multiple of the %s block size %d; hint: choose a "
        "type with a smaller block or keep the tensor in f16",
        row_length, GgmlTypeName(type), GgmlBlockSize(type)));
  }
  return static_cast<int64_t>(row_length / GgmlBlockSize(type) * GgmlTypeSize(type));
}

}  // namespace

void QuantizeRow(GgmlType type, std::span<const float> x, uint8_t* out) {
  switch (type) {
    case GgmlType::kF32:
      std::memcpy(out, x.data(), x.size_bytes());
      return;
    case GgmlType::kF16:
      return EncodeFloats<uint16_t, formats::F32ToF16>(x, out);
    case GgmlType::kBF16:
      return EncodeFloats<uint16_t, formats::F32ToBf16>(x, out);
    case GgmlType::kQ4_0:
      return QuantizeBlocks<BlockQ4_0>(x, out);
    case GgmlType::kQ5_0:
      return QuantizeBlocks<BlockQ5_0>(x, out);
    case GgmlType::kQ5_1:
      return QuantizeBlocks<BlockQ5_1>(x, out);
    case GgmlType::kQ8_0:
      return QuantizeBlocks<BlockQ8_0>(x, out);
    case GgmlType::kQ4_K:
      return QuantizeBlocks<BlockQ4_K>(x, out);
    case GgmlType::kQ5_K:
      return QuantizeBlocks<BlockQ5_K>(x, out);
    case GgmlType::kQ6_K:
      return QuantizeBlocks<BlockQ6_K>(x, out);
  }
}

void DequantizeRow(GgmlType type, const uint8_t* in, std::span<float> y) {
  switch (type) {
    case GgmlType::kF32:
      std::memcpy(y.data(), in, y.size_bytes());
      return;
    case GgmlType::kF16:
      return DecodeFloats<uint16_t, formats::F16ToF32>(in, y);
    case GgmlType::kBF16:
      return DecodeFloats<uint16_t, formats::Bf16ToF32>(in, y);
    case GgmlType::kQ4_0:
      return DequantizeBlocks<BlockQ4_0>(in, y);
    case GgmlType::kQ5_0:
      return DequantizeBlocks<BlockQ5_0>(in, y);
    case GgmlType::kQ5_1:
      return DequantizeBlocks<BlockQ5_1>(in, y);
    case GgmlType::kQ8_0:
      return DequantizeBlocks<BlockQ8_0>(in, y);
    case GgmlType::kQ4_K:
      return DequantizeBlocks<BlockQ4_K>(in, y);
    case GgmlType::kQ5_K:
      return DequantizeBlocks<BlockQ5_K>(in, y);
    case GgmlType::kQ6_K:
      return DequantizeBlocks<BlockQ6_K>(in, y);
  }
}

absl::StatusOr<std::string> QuantizeTensor(GgmlType type, std::span<const float> data,
                                           int64_t row_length, int threads) {
  TUNE_ASSIGN_OR_RETURN(const int64_t row_bytes, CheckRowLength(type, row_length));
  if (data.size() % static_cast<size_t>(row_length) != 0) {
    return absl::InvalidArgumentError(
        absl::StrFormat("%d values are not a whole number of rows of %d", data.size(), row_length));
  }
  const int64_t rows = static_cast<int64_t>(data.size()) / row_length;
  std::string out(static_cast<size_t>(rows * row_bytes), '\0');
  auto* dst = reinterpret_cast<uint8_t*>(out.data());
  if (threads <= 0) threads = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  const int64_t n_workers = std::min<int64_t>(threads, rows);
  // Contiguous row ranges: each worker writes a disjoint slice of `out`.
  auto work = [&](int64_t begin, int64_t end) {
    for (int64_t r = begin; r < end; ++r) {
      QuantizeRow(type, data.subspan(r * row_length, row_length), dst + r * row_bytes);
    }
  };
  std::vector<std::thread> workers;
  for (int64_t w = 1; w < n_workers; ++w) {
    workers.emplace_back(work, rows * w / n_workers, rows * (w + 1) / n_workers);
  }
  work(0, n_workers > 0 ? rows / n_workers : 0);
  for (std::thread& t : workers) t.join();
  return out;
}

absl::StatusOr<std::vector<float>> DequantizeTensor(GgmlType type, std::string_view bytes,
                                                    int64_t row_length) {
  TUNE_ASSIGN_OR_RETURN(const int64_t row_bytes, CheckRowLength(type, row_length));
  if (bytes.size() % static_cast<size_t>(row_bytes) != 0) {
    return absl::InvalidArgumentError(
        absl::StrFormat("%d bytes are not a whole number of %s rows of %d values (%d bytes each)",
                        bytes.size(), GgmlTypeName(type), row_length, row_bytes));
  }
  const int64_t rows = static_cast<int64_t>(bytes.size()) / row_bytes;
  std::vector<float> out(static_cast<size_t>(rows * row_length));
  const auto* src = reinterpret_cast<const uint8_t*>(bytes.data());
  for (int64_t r = 0; r < rows; ++r) {
    DequantizeRow(type, src + r * row_bytes,
                  std::span<float>(out).subspan(r * row_length, row_length));
  }
  return out;
}

}  // namespace tune::gguf

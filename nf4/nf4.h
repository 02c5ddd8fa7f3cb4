// NF4 4-bit weight quantization in the exact format of bitsandbytes (`quantize_4bit` with
// quant_type="nf4", compress_statistics=True), torch-free, over raw host pointers.
//
// Byte layout of one quantized tensor of `numel` weights (row-major [out, in] flattened):
//   packed   uint8[(numel+1)/2]      weight 2j in the HIGH nibble of byte j, 2j+1 in the low
//                                    nibble; an odd numel pads the last low nibble with 0
//   qabsmax  uint8[ceil(numel/64)]   per 64-weight block: index into `nested_code`
//   absmax2  f32[ceil(blocks/256)]   per 256 blocks (16,384 weights): scale of the nested step
//   offset   f32                     mean of all block absmax values
//   nested_code f32[256]             the signed dynamic 8-bit map (DynamicMap() for tensors
//                                    quantized here; whatever a bnb checkpoint stored for others)
// Dequantization, all in f32 with one rounding per operation (no fused multiply-add):
//   absmax[b] = nested_code[qabsmax[b]] * absmax2[b / 256] + offset
//   w[i]      = kNf4Code[nibble(i)] * absmax[i / 64]            (then to bf16, round-nearest-even)
// 4 + 8/64 + 32/16384 = 4.127 bits per weight.
#pragma once

#include <array>
#include <cstdint>
#include <vector>

namespace tune::nf4 {

// The 16 NF4 values, ascending; the index is the 4-bit code (bnb `get_4bit_type("nf4")`).
inline constexpr std::array<float, 16> kNf4Code = {
    -1.0f,
    -0.6961928009986877f,
    -0.5250730514526367f,
    -0.39491748809814453f,
    -0.28444138169288635f,
    -0.18477343022823334f,
    -0.09105003625154495f,
    0.0f,
    0.07958029955625534f,
    0.16093020141124725f,
    0.24611230194568634f,
    0.33791524171829224f,
    0.44070982933044434f,
    0.5626170039176941f,
    0.7229568362236023f,
    1.0f,
};
inline constexpr uint8_t kNf4ZeroCode = 7;

// bnb `create_dynamic_map(signed=True, max_exponent_bits=7, total_bits=8)`: 127 negative values,
// 0 at index 127, 127 positive values, 1.0 at index 255; map[i] == -map[254 - i] for i < 255.
// Evaluated in f32 the way torch does on the CPU (linspace's two-sided formula), which can
// differ from a particular torch build in the last bit of some entries: a bnb checkpoint's
// stored `nested_quant_map` is therefore always used as stored, never replaced by this.
const std::array<float, 256>& DynamicMap();

// Returns the NF4 code bnb assigns to `x`, a weight already divided by its block absmax:
// the nearest kNf4Code value, ties to the lower code (bnb's decision tree of midpoints, `>`).
uint8_t QuantizeNf4Value(float x);
// Returns the index bnb's blockwise 8-bit quantizer (`dQuantize<0>`) assigns to `x`: binary
// search of the sorted `code`, then nearest neighbour by the f32 midpoint; ties go to the even
// index (the leaf the 7-step search ends on).
uint8_t QuantizeDynamicValue(const std::array<float, 256>& code, float x);

// Shape of one quantized tensor. `block` must be a power of two in [64, 4096] (bnb's set; the
// CUDA kernels need a multiple of 8) and `nested_block` positive; bnb's checkpoints use 64/256.
struct Nf4Layout {
  int64_t numel = 0;
  int block = 64;
  int nested_block = 256;

  int64_t packed_bytes() const { return (numel + 1) / 2; }
  int64_t num_blocks() const { return (numel + block - 1) / block; }
  int64_t num_nested_blocks() const { return (num_blocks() + nested_block - 1) / nested_block; }
  // Everything but the 1 KiB nested_code, which is shared by all tensors in practice.
  int64_t quantized_bytes() const {
    return packed_bytes() + num_blocks() + 4 * num_nested_blocks() + 4;
  }
};

struct Nf4Weights {
  Nf4Layout layout;
  std::vector<uint8_t> packed;   // layout.packed_bytes()
  std::vector<uint8_t> qabsmax;  // layout.num_blocks()
  std::vector<float> absmax2;    // layout.num_nested_blocks()
  float offset = 0.0f;
  std::array<float, 256> nested_code{};
};

// `num_threads` 0 means std::thread::hardware_concurrency(). Results never depend on it.
struct ThreadOptions {
  int num_threads = 0;
};

// Quantizes `n` f32 (or bf16 bits) weights into `out` (resized here), block 64 / nested 256 by
// default (`layout.numel` is overwritten with n). Inputs must be finite. A block whose absmax is
// 0 gets the zero code everywhere (bnb's PyTorch backend; its CUDA kernel divides by zero and
// stores code 0 instead, which dequantizes to -absmax). The offset is the mean of the block
// absmax values summed in double, so it can differ from bnb's f32 CUDA reduction in the last bit.
void Quantize(const float* w, int64_t n, Nf4Weights* out, Nf4Layout layout = {},
              ThreadOptions threads = {});
void QuantizeBf16(const uint16_t* w, int64_t n, Nf4Weights* out, Nf4Layout layout = {},
                  ThreadOptions threads = {});

// The nested step alone: writes layout.num_blocks() f32 block absmax values to `absmax_out`.
void DequantizeAbsmax(const Nf4Weights& q, float* absmax_out);

// The weight step alone, given f32 block absmax values (from DequantizeAbsmax, or from a bnb
// checkpoint saved without double quantization): writes `layout.numel` values.
void DequantizeCodes(const uint8_t* packed, const float* absmax, const Nf4Layout& layout,
                     float* out, ThreadOptions threads = {});
void DequantizeCodesBf16(const uint8_t* packed, const float* absmax, const Nf4Layout& layout,
                         uint16_t* out, ThreadOptions threads = {});

// Both steps: `out` receives q.layout.numel f32 values or bf16 bit patterns.
void Dequantize(const Nf4Weights& q, float* out, ThreadOptions threads = {});
void DequantizeBf16(const Nf4Weights& q, uint16_t* out, ThreadOptions threads = {});

}  // namespace tune::nf4

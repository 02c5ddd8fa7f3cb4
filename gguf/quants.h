// ggml tensor encodings: float conversions and the block quantizers, bit-compatible with ggml.
//
// The quantizers are re-implementations of ggml-quants.c's reference (`*_ref`) paths, which is
// what llama-quantize runs when no importance matrix is given: same float operations in the
// same order, same rounding helpers, so the output is byte-identical (checked against golden
// vectors produced with ggml in tests/gguf). Rows are independent, so whole tensors are
// quantized over rows on several threads.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "gguf/gguf_types.h"

namespace tune::gguf {

// Encodes one row of `x.size()` floats as `type` into `out`, which must hold
// TensorBytes(type, {x.size()}) bytes; x.size() must be a multiple of the block size
// (callers validate with TensorBytes first).
void QuantizeRow(GgmlType type, std::span<const float> x, uint8_t* out);
// Decodes one row of `y.size()` values from `in`.
void DequantizeRow(GgmlType type, const uint8_t* in, std::span<float> y);

// Encodes a row-major tensor of `data.size() / row_length` rows. `threads` <= 0 uses every
// hardware thread. InvalidArgument when row_length is not positive, does not divide
// data.size() or is not a multiple of the type's block size.
absl::StatusOr<std::string> QuantizeTensor(GgmlType type, std::span<const float> data,
                                           int64_t row_length, int threads = 0);
// Decodes `bytes` holding rows of `row_length` values. InvalidArgument when the byte count is
// not a whole number of such rows.
absl::StatusOr<std::vector<float>> DequantizeTensor(GgmlType type, std::string_view bytes,
                                                    int64_t row_length);

}  // namespace tune::gguf

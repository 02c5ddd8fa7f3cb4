// llama.cpp file types ("Q4_K_M", ...) and the per-tensor types they imply.
//
// Follows llama_tensor_get_type in llama.cpp's src/llama-quant.cpp for dense (non-MoE,
// non-Falcon) models without an importance matrix: only 2-D+ tensors named "*weight" (not
// norms) are quantized; output.weight, or token_embd.weight when the output is tied, gets
// Q6_K; the K_M mixes give attn_v and ffn_down Q6_K on the use_more_bits layers, Q4_K_S gives
// the first layers Q5_K; and a row length that the block size does not divide falls back
// (Q4_K -> Q5_0, Q5_K -> Q5_1, Q6_K -> Q8_0, then F16). Tensors that are not quantized are
// written F32, as llama.cpp's converter writes norms and biases.
#pragma once

#include <cstdint>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "gguf/gguf_types.h"

namespace tune::gguf {

// llama_ftype values, stored in general.file_type.
enum class FileType : uint32_t {
  kF32 = 0,
  kF16 = 1,
  kQ4_0 = 2,
  kQ8_0 = 7,
  kQ4_K_S = 14,
  kQ4_K_M = 15,
  kQ5_K_S = 16,
  kQ5_K_M = 17,
  kQ6_K = 18,
  kBF16 = 32,
};

// "F32", "F16", "BF16", "Q8_0", "Q4_0", "Q4_K_S", "Q4_K_M", "Q5_K_S", "Q5_K_M", "Q6_K"
// (case-insensitive). InvalidArgument listing the allowed names otherwise.
absl::StatusOr<FileType> ParseFileType(std::string_view name);
std::string_view FileTypeName(FileType type);

struct ModelLayout {
  int n_layer = 0;                 // block_count
  bool has_output_weight = false;  // false: token_embd doubles as the output (tied)
};

// The type llama-quantize would give tensor `name` (GGUF naming, e.g. "blk.3.attn_v.weight")
// with ggml dims `ne` when producing `ftype`.
GgmlType TensorTypeFor(FileType ftype, std::string_view name, const std::vector<int64_t>& ne,
                       const ModelLayout& model);

}  // namespace tune::gguf

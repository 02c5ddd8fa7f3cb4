// What llama.cpp expects of a model GGUF per architecture: the general.architecture string,
// the {arch}.* hyperparameter keys with their exact types, the tensor names mapped from a
// Hugging Face checkpoint (gguf-py's tensor_mapping.py), and the q/k row permutation that
// convert_hf_to_gguf.py applies to `llama` (RoPE NORM) and to no other architecture here.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "gguf/gguf_writer.h"

namespace tune::gguf {

enum class Arch { kLlama, kQwen2, kQwen3, kStarcoder2 };

// From config.json's model_type ("llama", "qwen2", "qwen3", "starcoder2"). InvalidArgument
// listing the supported ones otherwise.
absl::StatusOr<Arch> ArchFromModelType(std::string_view model_type);
// The general.architecture value, which is also the {arch} key prefix.
std::string_view ArchName(Arch arch);

struct HParams {
  uint32_t n_layer = 0;    // num_hidden_layers
  uint32_t n_ctx = 0;      // max_position_embeddings
  uint32_t n_embd = 0;     // hidden_size
  uint32_t n_ff = 0;       // intermediate_size
  uint32_t n_head = 0;     // num_attention_heads
  uint32_t n_head_kv = 0;  // num_key_value_heads
  uint32_t head_dim = 0;   // head_dim, or n_embd / n_head
  uint32_t n_vocab = 0;    // rows of token_embd = length of tokenizer.ggml.tokens
  float rope_theta = 10000.0f;
  float norm_eps = 1e-5f;  // rms_norm_eps (LayerNorm's norm_epsilon for starcoder2)
};

// Sets general.architecture and every {arch}.* key llama.cpp's loader reads: u32 counts,
// f32 rope base and norm epsilon (layer_norm_rms_epsilon, or layer_norm_epsilon for
// starcoder2), key/value length and rope dimension count = head_dim. InvalidArgument when a
// count is zero or n_head is not a multiple of n_head_kv.
absl::Status SetArchMetadata(GgufWriter& writer, Arch arch, const HParams& hp);

// The GGUF name of a Hugging Face parameter ("model.layers.3.self_attn.q_proj.weight" ->
// "blk.3.attn_q.weight"). nullopt for tensors a GGUF must not contain (rotary inv_freq: extra
// tensors make llama.cpp refuse the file). InvalidArgument naming the tensor for anything the
// architecture has no slot for.
absl::StatusOr<std::optional<std::string>> GgufTensorName(Arch arch, std::string_view hf_name);

// llama only: the head count by which the rows of GGUF tensor `gguf_name` (attn_q/attn_k
// weights and biases, or a LoRA B of them) are permuted; 0 when they are not.
int QkPermuteHeads(Arch arch, std::string_view gguf_name, const HParams& hp);

// Rows of a [rows, cols] row-major matrix, per head of rows / n_head rows: HF's rotate-half
// pairing (i, i + d/2) becomes llama.cpp's adjacent pairing (2i, 2i + 1).
// `out` has in.size() elements. Requires rows % (2 * n_head) == 0.
void PermuteQkRows(std::span<const float> in, int64_t rows, int64_t cols, int n_head,
                   std::span<float> out);

}  // namespace tune::gguf

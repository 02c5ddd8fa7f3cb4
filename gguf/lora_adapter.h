// LoRA adapters as GGUF files (general.type = "adapter"), the format llama.cpp's
// llama-adapter.cpp loads with --lora and Ollama's ADAPTER line ships.
//
// For a base weight "<w>" (GGUF name, e.g. "blk.0.attn_q.weight") the adapter holds
// "<w>.lora_a" with ggml dims {in, rank} (PEFT lora_A [rank, in], bytes unchanged) and
// "<w>.lora_b" with dims {rank, out} (PEFT lora_B [out, rank]). llama.cpp applies
// W x + (alpha / rank) * B (A x), with alpha from adapter.lora.alpha.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "gguf/gguf_reader.h"
#include "gguf/gguf_writer.h"

namespace tune::gguf {

// Writes the adapter KVs: general.architecture (must equal the base model's),
// general.type = "adapter", adapter.type = "lora", adapter.lora.alpha (f32).
absl::Status SetLoraAdapterMetadata(GgufWriter& writer, std::string_view architecture, float alpha);

// Adds the lora_a / lora_b pair of base weight `base_name` (bytes borrowed, as AddTensor).
// InvalidArgument when in/out/rank are not positive or a name would exceed 63 bytes.
absl::Status AddLoraPair(GgufWriter& writer, std::string_view base_name, GgmlType type, int64_t in,
                         int64_t out, int64_t rank, std::string_view a_bytes,
                         std::string_view b_bytes);

struct LoraPair {
  std::string base_name;
  const TensorInfo* a = nullptr;  // ne {in, rank}
  const TensorInfo* b = nullptr;  // ne {rank, out}
};

struct LoraAdapter {
  std::string architecture;
  float alpha = 0;  // 0 when absent: llama.cpp then scales by 1, not alpha/rank
  std::vector<LoraPair> pairs;
};

// Validates `file` as llama.cpp does before applying it: general.type "adapter", adapter.type
// "lora", every tensor named "*.lora_a" / "*.lora_b" (norm tensors excepted), each pair
// complete and 2-D, with a's rank (ne1) equal to b's (ne0). InvalidArgument naming the file
// and the tensor otherwise. Pointers stay valid while `file` lives.
absl::StatusOr<LoraAdapter> ReadLoraAdapter(const GgufFile& file);

}  // namespace tune::gguf

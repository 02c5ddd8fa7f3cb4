// Adapter-only exports: a PEFT adapter as a GGUF LoRA adapter (general.type = "adapter", for
// `llama-server --lora` and Ollama's ADAPTER line) or copied as is (PEFT safetensors, for
// Hugging Face / vLLM).
#pragma once

#include <filesystem>

#include "absl/status/status.h"
#include "export/peft_adapter.h"
#include "gguf/arch.h"

namespace tune::exporter {

// Writes `adapter` as an F32 GGUF LoRA adapter for a base model of `arch` / `hp`, the way
// convert_lora_to_gguf.py does: GGUF tensor names of the base weights, llama's q/k row
// permutation on lora_b. llama.cpp scales every pair by adapter.lora.alpha / rank, one alpha
// for the file; modules whose PEFT scale differs from that (rank_pattern, alpha_pattern) get
// the ratio folded into lora_b, so the applied update equals PEFT's.
// FailedPrecondition when a module has no GGUF slot in `arch`. Written atomically.
absl::Status WriteGgufLoraAdapter(const PeftAdapter& adapter, gguf::Arch arch,
                                  const gguf::HParams& hp, const std::filesystem::path& out);

// Copies adapter_config.json and adapter_model.safetensors from `adapter_dir` into `out_dir`
// (created if needed), each file atomically and byte for byte.
absl::Status CopyPeftAdapter(const std::filesystem::path& adapter_dir,
                             const std::filesystem::path& out_dir);

}  // namespace tune::exporter

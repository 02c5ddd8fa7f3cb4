// Test-side exporter for the fixture's tiny Llama (../shared/fixtures/hf-reference/tiny-llama):
// writes it, and its PEFT adapter, as llama-arch GGUF files the way llama.cpp's
// convert_hf_to_gguf.py / convert_lora_to_gguf.py do (names, dims, q/k rotary permutation,
// SentencePiece vocab), so that real llama.cpp can load them. It drives tune_gguf's public API
// exactly as `tune export` will, and is the interop test's subject.
#pragma once

#include <filesystem>

#include "absl/status/status.h"
#include "gguf/quant_mix.h"

namespace tune::testing {

// The base model, every quantizable tensor typed by `ftype`'s llama.cpp rules.
absl::Status WriteTinyLlamaGguf(const std::filesystem::path& model_dir, gguf::FileType ftype,
                                const std::filesystem::path& out);
// model_dir/adapter as a GGUF LoRA adapter, F32.
absl::Status WriteTinyLlamaLoraGguf(const std::filesystem::path& model_dir,
                                    const std::filesystem::path& out);

}  // namespace tune::testing

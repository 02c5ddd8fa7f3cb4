// Test-side exporter for the fixtures' tiny models (../shared/fixtures/hf-reference/tiny-*):
// writes a model, and its PEFT adapter, as GGUF the way llama.cpp's convert_hf_to_gguf.py /
// convert_lora_to_gguf.py do (names, dims, q/k permutation for llama, SentencePiece vocab from
// tokenizer.model), so that real llama.cpp can load them. It drives tune_gguf's public API as
// `tune export` will; the interop test checks llama.cpp's output on the result.
#pragma once

#include <filesystem>

#include "absl/status/status.h"
#include "gguf/quant_mix.h"

namespace tune::testing {

// The base model, every quantizable tensor typed by `ftype`'s llama.cpp rules.
absl::Status WriteTinyModelGguf(const std::filesystem::path& model_dir, gguf::FileType ftype,
                                const std::filesystem::path& out);
// model_dir/adapter as a GGUF LoRA adapter, F32.
absl::Status WriteTinyLoraGguf(const std::filesystem::path& model_dir,
                               const std::filesystem::path& out);

}  // namespace tune::testing

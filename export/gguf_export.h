// `tune export`: a Hugging Face model directory, optionally with a PEFT adapter merged in, as a
// GGUF file llama.cpp and Ollama load (plus an Ollama Modelfile beside it), or the adapter
// alone as a GGUF LoRA adapter or a PEFT copy. See docs/export.md.
//
// Model exports stream: each tensor is read from the memory-mapped safetensors, merged,
// permuted where llama.cpp's converter permutes, quantized on `threads` threads and appended
// to the output through an atomic writer, so peak memory is about one tensor and a failed or
// interrupted export (a full disk included) leaves no partial file behind.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>

#include "absl/status/statusor.h"
#include "export/merge.h"

namespace tune::exporter {

struct ExportOptions {
  std::filesystem::path base;  // Hugging Face model directory (config.json, safetensors, tokenizer)
  std::filesystem::path adapter;  // PEFT adapter directory; empty exports the base alone
  // llama.cpp file type: F32, F16, BF16, Q8_0, Q4_0, Q4_K_S, Q4_K_M, Q5_K_S, Q5_K_M, Q6_K.
  // Ignored by adapter-only exports (GGUF adapters are F32).
  std::string quant = "F16";
  // The model GGUF; with adapter_only, a *.gguf path (GGUF LoRA adapter) or a directory (PEFT
  // files copied as they are).
  std::filesystem::path out;
  bool adapter_only = false;
  MergeTarget merge_target = MergeTarget::kOriginal;
  int threads = 0;  // quantization threads; <= 0 uses every hardware thread
};

struct ExportReport {
  std::filesystem::path out;
  std::filesystem::path modelfile;  // empty when none was written (adapter-only exports)
  int64_t tensors = 0;
  uint64_t bytes = 0;  // size of `out` (0 for a PEFT copy)
  double seconds = 0;
};

// InvalidArgument for an unknown quant type or inconsistent options; NotFound for missing
// inputs; FailedPrecondition for an adapter of another base model or a tokenizer of another
// model; ResourceExhausted when the disk fills up (nothing is left at `out`).
absl::StatusOr<ExportReport> RunExport(const ExportOptions& options);

}  // namespace tune::exporter

// The [model] and [lora] sections of a tune config (configs/*.toml), and loading the model
// they describe. Every key is documented in docs/config.md.
#pragma once

#include <ATen/core/Tensor.h>

#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "core/config.h"
#include "model/lora.h"
#include "model/transformer.h"

namespace tune::model {

struct ModelOptions {
  std::string family;                  // preset name, e.g. "qwen2.5-coder"; informational
  std::filesystem::path base;          // Hugging Face model directory; --model overrides it
  at::ScalarType dtype = at::kFloat;   // compute dtype: float32, bfloat16, float16
  int64_t threads = 0;                 // CPU threads for tensor math; 0 = all cores
  bool quantize_nf4 = false;           // store projection weights in NF4 (set by `tune train`)
  c10::Device device = c10::kCPU;      // where the weights live (set by `tune train`)
};

// The names `lora.targets` accepts.
const std::vector<std::string>& LoraTargetNames();

absl::StatusOr<ModelOptions> ParseModelOptions(const core::Config& config);
absl::StatusOr<LoraOptions> ParseLoraOptions(const core::Config& config);

// "float32" | "bfloat16" | "float16" -> ATen type; InvalidArgument listing them otherwise.
absl::StatusOr<at::ScalarType> ParseDType(const std::string& name);

// Loads the base model and, if given, a PEFT adapter applied with `mode`. Applies
// options.threads. All LibTorch errors come back as Status.
absl::StatusOr<Transformer> LoadModel(const ModelOptions& options,
                                      const std::optional<std::filesystem::path>& adapter,
                                      LoraMode mode);

}  // namespace tune::model

// A PEFT LoRA adapter as `tune export` needs it: per-module f32 factors, the scale PEFT applies
// and the one merge step, behind a torch-free interface so that only peft_adapter.cc pays for
// LibTorch's headers.
//
// Loading and scales come from model::LoraAdapter (rank_pattern / alpha_pattern / rslora
// honoured); MergeInto runs the exact arithmetic of model::ApplyLora(kMerged), so a merged
// export equals the model `tune debug generate --adapter` runs.
#pragma once

#include <cstdint>
#include <filesystem>
#include <map>
#include <span>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace tune::exporter {

struct PeftModule {
  int64_t rank = 0;
  int64_t in = 0;        // columns of the base weight
  int64_t out = 0;       // rows of the base weight
  double scale = 0;      // PEFT's alpha / r (or / sqrt(r)) after the per-module patterns
  std::vector<float> a;  // lora_A, [rank, in] row-major
  std::vector<float> b;  // lora_B, [out, rank] row-major
};

class PeftAdapter {
 public:
  // `dir` holds adapter_config.json + adapter_model.safetensors. Errors of
  // model::LoraAdapter::Load (NotFound, DataLoss, Unimplemented for PEFT features tune does not
  // apply), annotated with the directory.
  static absl::StatusOr<PeftAdapter> Load(const std::filesystem::path& dir);

  const std::filesystem::path& dir() const { return dir_; }
  // By transformer module name ("model.layers.0.self_attn.q_proj").
  const std::map<std::string, PeftModule>& modules() const { return modules_; }
  // The single adapter.lora.alpha a GGUF adapter carries: lora_alpha, or lora_alpha * sqrt(r)
  // with rslora, so that llama.cpp's alpha / rank reproduces PEFT's scale for the base rank.
  float gguf_alpha() const { return gguf_alpha_; }

  // w ([module.out, module.in] row-major) += scale * B @ A, computed in f32 as ApplyLora does.
  // InvalidArgument when w has the wrong size.
  absl::Status MergeInto(const PeftModule& module, std::span<float> w) const;

 private:
  std::filesystem::path dir_;
  std::map<std::string, PeftModule> modules_;
  float gguf_alpha_ = 0;
};

}  // namespace tune::exporter

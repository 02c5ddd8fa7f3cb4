// PEFT LoRA adapters: reading `adapter_config.json` + `adapter_model.safetensors` and applying
// them to a Transformer, unmerged (the low-rank update runs beside each frozen weight) or
// merged (W += scale * B A, for export and fast inference).
//
// Names follow PEFT: the tensor `base_model.model.<module>.lora_A.weight` belongs to the
// transformer module `<module>` (e.g. model.layers.0.self_attn.q_proj); the scales come from
// adapter_config.json (formats/peft_config.h).
#pragma once

#include <ATen/core/Tensor.h>

#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "formats/peft_config.h"
#include "model/transformer.h"

namespace tune::model {

// One module's low-rank pair. a: (r, in), b: (out, r).
struct LoraWeights {
  at::Tensor a;
  at::Tensor b;
  double scale = 0.0;
};

class LoraAdapter {
 public:
  // Unimplemented for PEFT features tune does not apply (DoRA, lora bias, fan_in_fan_out,
  // modules_to_save, non-LORA peft_type); DataLoss for tensors that do not pair up.
  static absl::StatusOr<LoraAdapter> Load(const std::filesystem::path& dir, at::ScalarType dtype);

  const formats::LoraConfig& config() const { return config_; }
  const std::map<std::string, LoraWeights>& modules() const { return modules_; }

 private:
  formats::LoraConfig config_;
  std::map<std::string, LoraWeights> modules_;  // by transformer module name
};

enum class LoraMode { kUnmerged, kMerged };

// LoRA hyperparameters for training (PEFT semantics: scale = alpha / r, or / sqrt(r) with rslora).
struct LoraOptions {
  int64_t rank = 16;
  double alpha = 32.0;
  double dropout = 0.05;
  bool rslora = false;
  std::vector<std::string> targets = {"q_proj", "k_proj", "v_proj", "o_proj",
                                      "gate_proj", "up_proj", "down_proj"};
  at::ScalarType dtype = at::kFloat;  // storage of the trainable A/B: f32 or bf16
};

// Attaches fresh adapters to every projection whose name ends in one of options.targets,
// initialised as PEFT does (A ~ kaiming_uniform(a=sqrt(5)), B = 0, so training starts exactly
// at the base model), on the model's device in options.dtype, with requires_grad. A is drawn
// in f32 on the CPU from `seed`, so it is the same on every device and dtype up to rounding.
// InvalidArgument when no projection matches (e.g. gate_proj on starcoder2 only).
absl::Status InitLora(Transformer& model, const LoraOptions& options, uint64_t seed);

// A warm start: sets the adapters InitLora attached to `adapter`'s values, so training
// continues from that adapter (e.g. the one `tune retrain` serves) instead of from the base
// model. Checks everything before copying anything: FailedPrecondition, naming the module and
// the setting to change, when the adapter lacks an attached module or has one more, or when a
// rank or scale (lora.rank, lora.alpha, lora.rslora) differs.
absl::Status WarmStartLora(Transformer& model, const LoraAdapter& adapter);

// The adapters attached to `model` (unmerged), by module name.
std::vector<std::pair<std::string, LoraWeights>> AttachedLora(Transformer& model);

// Writes a PEFT adapter directory (adapter_config.json + adapter_model.safetensors, in the
// adapters' dtype: f32, or bf16 with lora.dtype = "bf16") that Hugging Face PEFT,
// LoraAdapter::Load and `tune export` read. Files are written atomically.
absl::Status SaveLoraAdapter(Transformer& model, const LoraOptions& options,
                             const std::string& base_model_name, const std::filesystem::path& dir);

// Attaches (or merges) every module of `adapter` to `model`. FailedPrecondition, naming the
// module, when the adapter names a module the model lacks or its shapes do not fit
// (an adapter trained for another base model).
absl::Status ApplyLora(Transformer& model, const LoraAdapter& adapter, LoraMode mode);

}  // namespace tune::model

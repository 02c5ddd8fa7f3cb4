#include "model/model_options.h"

#include <ATen/Parallel.h>

#include "absl/strings/str_format.h"
#include "core/status.h"
#include "model/torch_status.h"

namespace tune::model {
namespace {

const std::vector<std::string> kDTypeNames = {"float32", "bfloat16", "float16"};

}  // namespace

const std::vector<std::string>& LoraTargetNames() {
  static const std::vector<std::string> names = {"q_proj",  "k_proj",    "v_proj",
                                                 "o_proj",  "gate_proj", "up_proj",
                                                 "down_proj", "c_fc",    "c_proj"};
  return names;
}

absl::StatusOr<at::ScalarType> ParseDType(const std::string& name) {
  if (name == "float32") return at::kFloat;
  if (name == "bfloat16") return at::kBFloat16;
  if (name == "float16") return at::kHalf;
  return absl::InvalidArgumentError(
      absl::StrFormat("dtype must be one of float32, bfloat16, float16, got \"%s\"", name));
}

absl::StatusOr<ModelOptions> ParseModelOptions(const core::Config& config) {
  ModelOptions o;
  core::SectionReader r(config, "model");
  TUNE_RETURN_IF_ERROR(r.Read("family", o.family));
  std::string base;
  TUNE_RETURN_IF_ERROR(r.Read("base", base));
  o.base = base;
  std::string dtype = "float32";
  TUNE_RETURN_IF_ERROR(r.ReadChoice("dtype", dtype, kDTypeNames));
  TUNE_ASSIGN_OR_RETURN(o.dtype, ParseDType(dtype));
  TUNE_RETURN_IF_ERROR(r.Read("threads", o.threads, 0, 1024));
  TUNE_RETURN_IF_ERROR(r.Finish());
  return o;
}

absl::StatusOr<LoraOptions> ParseLoraOptions(const core::Config& config) {
  LoraOptions o;
  core::SectionReader r(config, "lora");
  TUNE_RETURN_IF_ERROR(r.Read("rank", o.rank, 1, 4096));
  TUNE_RETURN_IF_ERROR(r.Read("alpha", o.alpha, 1e-6, 1e6));
  TUNE_RETURN_IF_ERROR(r.Read("dropout", o.dropout, 0.0, 0.99));
  TUNE_RETURN_IF_ERROR(r.Read("rslora", o.rslora));
  TUNE_RETURN_IF_ERROR(r.Read("targets", o.targets, LoraTargetNames()));
  std::string dtype = "f32";
  TUNE_RETURN_IF_ERROR(r.ReadChoice("dtype", dtype, {"f32", "bf16"}));
  o.dtype = dtype == "bf16" ? at::kBFloat16 : at::kFloat;
  TUNE_RETURN_IF_ERROR(r.Finish());
  if (o.targets.empty()) {
    return absl::InvalidArgumentError(
        absl::StrFormat("%s: lora.targets must name at least one module", config.origin()));
  }
  return o;
}

absl::StatusOr<Transformer> LoadModel(const ModelOptions& options,
                                      const std::optional<std::filesystem::path>& adapter,
                                      LoraMode mode) {
  if (options.base.empty()) {
    return absl::InvalidArgumentError(
        "no base model given; hint: pass --model DIR or set model.base in the config");
  }
  if (options.threads > 0) at::set_num_threads(static_cast<int>(options.threads));
  return CallTorch("loading model", [&]() -> absl::StatusOr<Transformer> {
    TUNE_ASSIGN_OR_RETURN(Transformer model, Transformer::Load(options.base, {.dtype = options.dtype, .quantize_nf4 = options.quantize_nf4, .device = options.device}));
    if (adapter) {
      TUNE_ASSIGN_OR_RETURN(LoraAdapter lora, LoraAdapter::Load(*adapter, options.dtype));
      TUNE_RETURN_IF_ERROR(ApplyLora(model, lora, mode));
    }
    return model;
  });
}

}  // namespace tune::model

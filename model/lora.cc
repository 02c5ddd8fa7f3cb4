#include "model/lora.h"

#include <ATen/ATen.h>
#include <ATen/CPUGeneratorImpl.h>
#include <c10/core/GradMode.h>

#include <cmath>
#include <nlohmann/json.hpp>

#include "absl/strings/match.h"
#include "absl/strings/str_format.h"
#include "absl/strings/strip.h"
#include "core/file.h"
#include "core/status.h"
#include "formats/safetensors.h"
#include "model/tensor_io.h"

namespace tune::model {
namespace {

using json = nlohmann::json;

constexpr absl::string_view kPeftPrefix = "base_model.model.";

}  // namespace

absl::StatusOr<LoraAdapter> LoraAdapter::Load(const std::filesystem::path& dir, at::ScalarType dtype) {
  LoraAdapter adapter;
  std::filesystem::path config_path = dir / "adapter_config.json";
  TUNE_ASSIGN_OR_RETURN(std::string text, core::ReadFile(config_path));
  TUNE_ASSIGN_OR_RETURN(adapter.config_, formats::ParseLoraConfig(text, config_path.string()));
  std::filesystem::path weights_path = dir / "adapter_model.safetensors";
  TUNE_ASSIGN_OR_RETURN(formats::SafetensorsCheckpoint weights,
                        formats::SafetensorsCheckpoint::OpenFile(weights_path));
  for (const std::string& name : weights.names()) {
    absl::string_view rest = name;
    bool is_a = false;
    if (!absl::ConsumePrefix(&rest, kPeftPrefix) ||
        !((is_a = absl::ConsumeSuffix(&rest, ".lora_A.weight")) ||
          absl::ConsumeSuffix(&rest, ".lora_B.weight"))) {
      return absl::UnimplementedError(absl::StrFormat(
          "%s: tensor '%s' is not a LoRA A/B weight (trainable embeddings and extra modules are "
          "not supported)",
          weights_path.string(), name));
    }
    std::string module(rest);
    const formats::TensorView* view = weights.Find(name);
    if (view->shape.size() != 2) {
      return absl::DataLossError(absl::StrFormat("%s: tensor '%s' must be 2-D", weights_path.string(), name));
    }
    TUNE_ASSIGN_OR_RETURN(at::Tensor t, ToTensor(*view, dtype));
    LoraWeights& w = adapter.modules_[module];
    (is_a ? w.a : w.b) = t;
  }
  for (auto& [module, w] : adapter.modules_) {
    if (!w.a.defined() || !w.b.defined()) {
      return absl::DataLossError(absl::StrFormat("%s: module '%s' has lora_%s but not lora_%s",
                                                 weights_path.string(), module, w.a.defined() ? "A" : "B",
                                                 w.a.defined() ? "B" : "A"));
    }
    const int64_t r = adapter.config_.RankFor(module);
    if (w.a.size(0) != r || w.b.size(1) != r) {
      return absl::DataLossError(absl::StrFormat(
          "%s: module '%s' has rank %d/%d, adapter_config.json says r=%d", weights_path.string(),
          module, w.a.size(0), w.b.size(1), r));
    }
    w.scale = adapter.config_.ScaleFor(module);
  }
  if (adapter.modules_.empty()) {
    return absl::DataLossError(absl::StrFormat("%s holds no LoRA tensors", weights_path.string()));
  }
  return adapter;
}

absl::Status ApplyLora(Transformer& model, const LoraAdapter& adapter, LoraMode mode) {
  std::map<std::string, Linear*> linears;
  for (const NamedLinear& nl : model.Linears()) linears[nl.name] = nl.linear;
  // Check every module before touching any weight, so a bad adapter leaves the model intact.
  for (const auto& [module, w] : adapter.modules()) {
    auto it = linears.find(module);
    if (it == linears.end()) {
      return absl::FailedPreconditionError(absl::StrFormat(
          "adapter module '%s' does not exist in this %s model; hint: the adapter was trained "
          "for another base model",
          module, ArchName(model.config().arch)));
    }
    const Linear& base = *it->second;
    if (w.a.size(1) != base.in_features || w.b.size(0) != base.out_features) {
      return absl::FailedPreconditionError(absl::StrFormat(
          "adapter module '%s' maps %d -> %d features, the base layer %d -> %d; hint: the "
          "adapter was trained for another base model",
          module, w.a.size(1), w.b.size(0), base.in_features, base.out_features));
    }
  }
  for (const auto& [module, w] : adapter.modules()) {
    Linear& linear = *linears[module];
    const at::ScalarType dtype = model.dtype();
    if (mode == LoraMode::kMerged) {
      // An NF4 weight is merged into its dequantized values and stays dense afterwards.
      at::Tensor delta = at::matmul(w.b.to(model.device(), at::kFloat), w.a.to(model.device(), at::kFloat)) * w.scale;
      linear.weight = (DenseWeight(linear, at::kFloat) + delta).to(dtype);
      linear.nf4.reset();
    } else {
      linear.lora_a = w.a.to(model.device(), dtype);
      linear.lora_b = w.b.to(model.device(), dtype);
      linear.lora_scale = w.scale;
    }
  }
  return absl::OkStatus();
}

absl::Status InitLora(Transformer& model, const LoraOptions& options, uint64_t seed) {
  at::Generator gen = at::detail::createCPUGenerator(seed);
  int attached = 0;
  for (NamedLinear& nl : model.Linears()) {
    bool targeted = false;
    for (const std::string& t : options.targets) targeted |= formats::PeftKeyMatches(nl.name, t);
    if (!targeted) continue;
    Linear& l = *nl.linear;
    const int64_t in = l.in_features, out = l.out_features;
    // kaiming_uniform_(a=sqrt(5)) on (r, in): bound = sqrt(6 / ((1 + a^2) * fan_in)) = 1/sqrt(in).
    const double bound = 1.0 / std::sqrt(static_cast<double>(in));
    at::Tensor a = at::empty({options.rank, in}, at::kFloat).uniform_(-bound, bound, gen);
    l.lora_a = a.to(model.device(), options.dtype).requires_grad_(true);
    l.lora_b = at::zeros({out, options.rank}, at::TensorOptions().dtype(options.dtype).device(model.device()))
                   .requires_grad_(true);
    l.lora_scale = options.rslora ? options.alpha / std::sqrt(static_cast<double>(options.rank))
                                  : options.alpha / static_cast<double>(options.rank);
    l.lora_dropout = options.dropout;
    ++attached;
  }
  if (attached == 0) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "lora.targets matches no projection of this %s model", ArchName(model.config().arch)));
  }
  return absl::OkStatus();
}

absl::Status WarmStartLora(Transformer& model, const LoraAdapter& adapter) {
  const std::vector<std::pair<std::string, LoraWeights>> attached = AttachedLora(model);
  constexpr absl::string_view kHint =
      "hint: train with the adapter's settings (its adapter_config.json), or without --init-adapter";
  for (const auto& [module, w] : attached) {
    auto it = adapter.modules().find(module);
    if (it == adapter.modules().end()) {
      return absl::FailedPreconditionError(absl::StrFormat(
          "the initial adapter has no module '%s', which lora.targets adapts; %s", module, kHint));
    }
    const LoraWeights& from = it->second;
    if (!from.a.sizes().equals(w.a.sizes()) || !from.b.sizes().equals(w.b.sizes())) {
      return absl::FailedPreconditionError(absl::StrFormat(
          "the initial adapter's module '%s' has rank %d and maps %d -> %d features; this run has "
          "lora.rank %d over %d -> %d; %s",
          module, from.a.size(0), from.a.size(1), from.b.size(0), w.a.size(0), w.a.size(1), w.b.size(0), kHint));
    }
    if (std::abs(from.scale - w.scale) > 1e-9 * std::abs(w.scale)) {
      return absl::FailedPreconditionError(absl::StrFormat(
          "the initial adapter's module '%s' has scale %g (lora_alpha / r), this run %g (lora.alpha, "
          "lora.rslora); %s",
          module, from.scale, w.scale, kHint));
    }
  }
  if (adapter.modules().size() != attached.size()) {
    return absl::FailedPreconditionError(absl::StrFormat(
        "the initial adapter adapts %d modules, this run's lora.targets %d; %s", adapter.modules().size(),
        attached.size(), kHint));
  }
  c10::NoGradGuard no_grad;
  for (auto& [module, w] : attached) {
    const LoraWeights& from = adapter.modules().at(module);
    w.a.copy_(from.a);
    w.b.copy_(from.b);
  }
  return absl::OkStatus();
}

std::vector<std::pair<std::string, LoraWeights>> AttachedLora(Transformer& model) {
  std::vector<std::pair<std::string, LoraWeights>> out;
  for (NamedLinear& nl : model.Linears()) {
    if (nl.linear->lora_a.defined()) {
      out.push_back({nl.name, {nl.linear->lora_a, nl.linear->lora_b, nl.linear->lora_scale}});
    }
  }
  return out;
}

absl::Status SaveLoraAdapter(Transformer& model, const LoraOptions& options,
                             const std::string& base_model_name, const std::filesystem::path& dir) {
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) return core::ErrnoStatus(ec.value(), "create directory", dir);
  std::vector<std::pair<std::string, at::Tensor>> tensors;
  for (const auto& [module, w] : AttachedLora(model)) {
    tensors.push_back({absl::StrFormat("%s%s.lora_A.weight", kPeftPrefix, module), w.a.detach()});
    tensors.push_back({absl::StrFormat("%s%s.lora_B.weight", kPeftPrefix, module), w.b.detach()});
  }
  if (tensors.empty()) return absl::FailedPreconditionError("the model has no LoRA adapters to save");
  TUNE_RETURN_IF_ERROR(WriteSafetensors(dir / "adapter_model.safetensors", tensors));
  json config = {
      {"peft_type", "LORA"},
      {"task_type", "CAUSAL_LM"},
      {"base_model_name_or_path", base_model_name},
      {"r", options.rank},
      {"lora_alpha", options.alpha},
      {"lora_dropout", options.dropout},
      {"use_rslora", options.rslora},
      {"target_modules", options.targets},
      {"bias", "none"},
      {"fan_in_fan_out", false},
      {"init_lora_weights", true},
      {"inference_mode", true},
      {"modules_to_save", nullptr},
      {"rank_pattern", json::object()},
      {"alpha_pattern", json::object()},
      {"use_dora", false},
      {"revision", nullptr},
  };
  return core::WriteFileAtomic(dir / "adapter_config.json", config.dump(2) + "\n");
}

}  // namespace tune::model

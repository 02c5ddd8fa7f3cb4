#include "export/merge.h"

#include <cstring>

#include "absl/strings/str_format.h"
#include "core/status.h"
#include "formats/dtype.h"
#include "nf4/nf4.h"

namespace tune::exporter {
namespace {

constexpr std::string_view kWeightSuffix = ".weight";

// The weights tune's QLoRA loader keeps in NF4: every projection of a decoder layer.
bool IsNf4Quantized(const formats::TensorView& t) {
  return t.shape.size() == 2 && t.name.starts_with("model.layers.") &&
         t.name.ends_with(kWeightSuffix);
}

}  // namespace

absl::StatusOr<MergedWeights> MergedWeights::Open(const std::filesystem::path& base,
                                                  const PeftAdapter* adapter, MergeTarget target) {
  TUNE_ASSIGN_OR_RETURN(formats::SafetensorsCheckpoint ckpt,
                        formats::SafetensorsCheckpoint::Open(base));
  if (adapter != nullptr) {
    for (const auto& [module, m] : adapter->modules()) {
      const formats::TensorView* w = ckpt.Find(absl::StrFormat("%s.weight", module));
      if (w == nullptr) {
        return absl::FailedPreconditionError(absl::StrFormat(
            "adapter %s: module '%s' does not exist in %s; hint: the adapter was trained for "
            "another base model",
            adapter->dir().string(), module, base.string()));
      }
      if (w->shape != std::vector<int64_t>{m.out, m.in}) {
        return absl::FailedPreconditionError(absl::StrFormat(
            "adapter %s: module '%s' maps %d -> %d features (rank %d), the base weight in %s is "
            "[%d, %d]; hint: the adapter was trained for another base model",
            adapter->dir().string(), module, m.in, m.out, m.rank, base.string(),
            w->shape.empty() ? 0 : w->shape[0], w->shape.size() < 2 ? 0 : w->shape[1]));
      }
    }
  }
  return MergedWeights(std::move(ckpt), adapter, target);
}

absl::StatusOr<std::vector<float>> MergedWeights::ReadF32(const std::string& name) const {
  const formats::TensorView* t = ckpt_.Find(name);
  if (t == nullptr) {
    return absl::NotFoundError(
        absl::StrFormat("%s: no tensor '%s'", ckpt_.origin().string(), name));
  }
  const int64_t n = t->numel();
  std::vector<float> w(n);
  const auto* bits = reinterpret_cast<const uint16_t*>(t->data);
  switch (t->dtype) {
    case formats::DType::kF32:
      std::memcpy(w.data(), t->data, n * sizeof(float));
      break;
    case formats::DType::kBF16:
      for (int64_t i = 0; i < n; ++i) w[i] = formats::Bf16ToF32(bits[i]);
      break;
    case formats::DType::kF16:
      for (int64_t i = 0; i < n; ++i) w[i] = formats::F16ToF32(bits[i]);
      break;
    default:
      return absl::InvalidArgumentError(
          absl::StrFormat("%s: tensor '%s' has dtype %s; hint: export reads F32, F16 and BF16",
                          ckpt_.origin().string(), name, formats::DTypeName(t->dtype)));
  }
  if (target_ == MergeTarget::kNf4Dequantized && IsNf4Quantized(*t)) {
    nf4::Nf4Weights q;
    nf4::Quantize(w.data(), n, &q);
    nf4::Dequantize(q, w.data());
  }
  if (adapter_ != nullptr && name.ends_with(kWeightSuffix)) {
    const auto it = adapter_->modules().find(name.substr(0, name.size() - kWeightSuffix.size()));
    if (it != adapter_->modules().end()) {
      TUNE_RETURN_IF_ERROR(adapter_->MergeInto(it->second, w));
    }
  }
  return w;
}

}  // namespace tune::exporter

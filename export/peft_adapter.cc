#include "export/peft_adapter.h"

#include <ATen/ATen.h>

#include <cmath>

#include "absl/strings/str_format.h"
#include "core/status.h"
#include "model/lora.h"
#include "model/torch_status.h"

namespace tune::exporter {
namespace {

std::vector<float> ToVector(const at::Tensor& t) {
  const at::Tensor c = t.to(at::kFloat).contiguous();
  return std::vector<float>(c.data_ptr<float>(), c.data_ptr<float>() + c.numel());
}

}  // namespace

absl::StatusOr<PeftAdapter> PeftAdapter::Load(const std::filesystem::path& dir) {
  absl::StatusOr<model::LoraAdapter> loaded = model::LoraAdapter::Load(dir, at::kFloat);
  if (!loaded.ok()) return core::Annotate(loaded.status(), dir.string());
  PeftAdapter adapter;
  adapter.dir_ = dir;
  const formats::LoraConfig& config = loaded->config();
  adapter.gguf_alpha_ = static_cast<float>(
      config.use_rslora ? config.alpha * std::sqrt(static_cast<double>(config.r)) : config.alpha);
  for (const auto& [name, w] : loaded->modules()) {
    PeftModule m;
    m.rank = w.a.size(0);
    m.in = w.a.size(1);
    m.out = w.b.size(0);
    m.scale = w.scale;
    m.a = ToVector(w.a);
    m.b = ToVector(w.b);
    adapter.modules_.emplace(name, std::move(m));
  }
  return adapter;
}

absl::Status PeftAdapter::MergeInto(const PeftModule& module, std::span<float> w) const {
  if (static_cast<int64_t>(w.size()) != module.out * module.in) {
    return absl::InvalidArgumentError(
        absl::StrFormat("merge: weight has %d values, the adapter module expects %d x %d", w.size(),
                        module.out, module.in));
  }
  return model::CallTorch("lora merge", [&] {
    const auto opts = at::TensorOptions().dtype(at::kFloat);
    const at::Tensor a =
        at::from_blob(const_cast<float*>(module.a.data()), {module.rank, module.in}, opts);
    const at::Tensor b =
        at::from_blob(const_cast<float*>(module.b.data()), {module.out, module.rank}, opts);
    at::Tensor weight = at::from_blob(w.data(), {module.out, module.in}, opts);
    // Same expression as ApplyLora(kMerged): (W + (B @ A) * scale), f32.
    const at::Tensor merged = weight + at::matmul(b, a) * module.scale;
    weight.copy_(merged);
  });
}

}  // namespace tune::exporter

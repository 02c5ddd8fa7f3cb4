// The weights of a Hugging Face checkpoint with a PEFT adapter merged in, produced one tensor at
// a time from the memory-mapped safetensors, so an export never holds the model twice: only
// the tensor being quantized lives on the heap.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "export/peft_adapter.h"
#include "formats/safetensors.h"

namespace tune::exporter {

enum class MergeTarget {
  // W + scale * B @ A on the checkpoint's own (high-precision) weights.
  kOriginal,
  // dequant(nf4(W)) + scale * B @ A: the weights a QLoRA adapter was trained against, for
  // every 2-D weight of a decoder layer (what `tune train` stores in NF4).
  kNf4Dequantized,
};

class MergedWeights {
 public:
  // Maps `base`'s safetensors. `adapter` may be null (no merge); it must outlive this object.
  // FailedPrecondition naming the module, with a hint, when the adapter targets a module the
  // checkpoint lacks or its shapes differ (an adapter trained for another base model).
  static absl::StatusOr<MergedWeights> Open(const std::filesystem::path& base,
                                            const PeftAdapter* adapter, MergeTarget target);

  const formats::SafetensorsCheckpoint& checkpoint() const { return ckpt_; }

  // Tensor `name` ([rows, cols] row-major) as f32 with the adapter merged, converted from
  // F32 / F16 / BF16. InvalidArgument for other dtypes; NotFound for unknown names.
  absl::StatusOr<std::vector<float>> ReadF32(const std::string& name) const;

 private:
  MergedWeights(formats::SafetensorsCheckpoint ckpt, const PeftAdapter* adapter, MergeTarget target)
      : ckpt_(std::move(ckpt)), adapter_(adapter), target_(target) {}

  formats::SafetensorsCheckpoint ckpt_;
  const PeftAdapter* adapter_;
  MergeTarget target_;
};

}  // namespace tune::exporter

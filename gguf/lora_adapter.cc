#include "gguf/lora_adapter.h"

#include <map>

#include "absl/strings/str_format.h"
#include "core/status.h"

namespace tune::gguf {
namespace {

constexpr std::string_view kSuffixA = ".lora_a";
constexpr std::string_view kSuffixB = ".lora_b";

}  // namespace

absl::Status SetLoraAdapterMetadata(GgufWriter& writer, std::string_view architecture,
                                    float alpha) {
  TUNE_RETURN_IF_ERROR(writer.Set("general.architecture", std::string(architecture)));
  TUNE_RETURN_IF_ERROR(writer.Set("general.type", std::string("adapter")));
  TUNE_RETURN_IF_ERROR(writer.Set("adapter.type", std::string("lora")));
  return writer.Set("adapter.lora.alpha", alpha);
}

absl::Status AddLoraPair(GgufWriter& writer, std::string_view base_name, GgmlType type, int64_t in,
                         int64_t out, int64_t rank, std::string_view a_bytes,
                         std::string_view b_bytes) {
  if (in <= 0 || out <= 0 || rank <= 0) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "lora pair for '%s': in %d, out %d, rank %d must be positive", base_name, in, out, rank));
  }
  TUNE_RETURN_IF_ERROR(
      writer.AddTensor(absl::StrFormat("%s%s", base_name, kSuffixA), type, {in, rank}, a_bytes));
  return writer.AddTensor(absl::StrFormat("%s%s", base_name, kSuffixB), type, {rank, out}, b_bytes);
}

absl::StatusOr<LoraAdapter> ReadLoraAdapter(const GgufFile& file) {
  const std::string where = file.path().string();
  auto invalid = [&](const std::string& what) {
    return absl::InvalidArgumentError(
        absl::StrFormat("%s: %s; hint: this is not a llama.cpp LoRA adapter GGUF", where, what));
  };
  TUNE_ASSIGN_OR_RETURN(std::string general_type, file.Get<std::string>("general.type"));
  if (general_type != "adapter") {
    return invalid(absl::StrFormat("general.type is '%s', expected 'adapter'", general_type));
  }
  TUNE_ASSIGN_OR_RETURN(std::string adapter_type, file.Get<std::string>("adapter.type"));
  if (adapter_type != "lora") {
    return invalid(absl::StrFormat("adapter.type is '%s', expected 'lora'", adapter_type));
  }
  LoraAdapter adapter;
  TUNE_ASSIGN_OR_RETURN(adapter.architecture, file.Get<std::string>("general.architecture"));
  if (file.Find("adapter.lora.alpha") != nullptr) {
    TUNE_ASSIGN_OR_RETURN(adapter.alpha, file.Get<float>("adapter.lora.alpha"));
  }

  std::map<std::string, LoraPair> pairs;
  for (const TensorInfo& t : file.tensors()) {
    std::string_view name = t.name;
    if (name.ends_with("_norm.weight")) continue;  // llama.cpp skips these too
    const bool is_a = name.ends_with(kSuffixA);
    if (!is_a && !name.ends_with(kSuffixB)) {
      return invalid(
          absl::StrFormat("tensor '%s' ends in neither %s nor %s", name, kSuffixA, kSuffixB));
    }
    if (t.ne.size() != 2) {
      return invalid(absl::StrFormat("tensor '%s' has %d dims, expected 2", name, t.ne.size()));
    }
    name.remove_suffix(kSuffixA.size());
    LoraPair& pair = pairs[std::string(name)];
    pair.base_name = std::string(name);
    (is_a ? pair.a : pair.b) = &t;
  }
  for (auto& [base, pair] : pairs) {
    if (pair.a == nullptr || pair.b == nullptr) {
      return invalid(absl::StrFormat("'%s' has lora_%s but no lora_%s", base, pair.a ? "a" : "b",
                                     pair.a ? "b" : "a"));
    }
    if (pair.a->ne[1] != pair.b->ne[0]) {
      return invalid(absl::StrFormat(
          "'%s': lora_a rank %d differs from lora_b rank %d (lora_a must be {in, rank}, lora_b "
          "{rank, out})",
          base, pair.a->ne[1], pair.b->ne[0]));
    }
    adapter.pairs.push_back(std::move(pair));
  }
  return adapter;
}

}  // namespace tune::gguf

#include "export/adapter_export.h"

#include <memory>
#include <optional>
#include <string>
#include <system_error>
#include <vector>

#include "absl/strings/str_format.h"
#include "core/file.h"
#include "core/status.h"
#include "gguf/gguf_writer.h"
#include "gguf/lora_adapter.h"

namespace tune::exporter {
namespace {

std::string_view Bytes(const std::vector<float>& v) {
  return {reinterpret_cast<const char*>(v.data()), v.size() * sizeof(float)};
}

}  // namespace

absl::Status WriteGgufLoraAdapter(const PeftAdapter& adapter, gguf::Arch arch,
                                  const gguf::HParams& hp, const std::filesystem::path& out) {
  gguf::GgufWriter w;
  TUNE_RETURN_IF_ERROR(gguf::SetLoraAdapterMetadata(w, gguf::ArchName(arch), adapter.gguf_alpha()));
  TUNE_RETURN_IF_ERROR(w.Set("general.name", adapter.dir().filename().string()));
  // lora_b after permutation / scaling; the writer borrows the bytes until Write().
  std::vector<std::unique_ptr<std::vector<float>>> b_rows;
  for (const auto& [module, m] : adapter.modules()) {
    TUNE_ASSIGN_OR_RETURN(std::optional<std::string> base,
                          gguf::GgufTensorName(arch, module + ".weight"));
    if (!base.has_value()) {
      return absl::FailedPreconditionError(
          absl::StrFormat("adapter %s: module '%s' has no tensor in a GGUF %s model",
                          adapter.dir().string(), module, gguf::ArchName(arch)));
    }
    auto b = std::make_unique<std::vector<float>>(m.b);
    const double factor = m.scale * static_cast<double>(m.rank) / adapter.gguf_alpha();
    if (factor != 1.0) {
      for (float& x : *b) x = static_cast<float>(x * factor);
    }
    // convert_lora_to_gguf.py runs the base model's q/k permutation on lora_b's rows only.
    if (const int heads = gguf::QkPermuteHeads(arch, *base, hp); heads > 0) {
      std::vector<float> permuted(b->size());
      gguf::PermuteQkRows(*b, m.out, m.rank, heads, permuted);
      *b = std::move(permuted);
    }
    TUNE_RETURN_IF_ERROR(gguf::AddLoraPair(w, *base, gguf::GgmlType::kF32, m.in, m.out, m.rank,
                                           Bytes(m.a), Bytes(*b)));
    b_rows.push_back(std::move(b));
  }
  return w.Write(out);
}

absl::Status CopyPeftAdapter(const std::filesystem::path& adapter_dir,
                             const std::filesystem::path& out_dir) {
  std::error_code ec;
  std::filesystem::create_directories(out_dir, ec);
  if (ec) return core::ErrnoStatus(ec.value(), "create directory", out_dir);
  for (const char* name : {"adapter_config.json", "adapter_model.safetensors"}) {
    TUNE_ASSIGN_OR_RETURN(std::string bytes, core::ReadFile(adapter_dir / name));
    TUNE_RETURN_IF_ERROR(core::WriteFileAtomic(out_dir / name, bytes));
  }
  return absl::OkStatus();
}

}  // namespace tune::exporter

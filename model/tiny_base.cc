#include "model/tiny_base.h"

#include <cstring>
#include <string>
#include <vector>

#include "absl/strings/str_format.h"
#include "core/file.h"
#include "core/status.h"
#include "formats/safetensors.h"

namespace tune::model {

absl::Status WriteTinyBase(const std::filesystem::path& fixture, const std::filesystem::path& tokenizer,
                           const std::filesystem::path& out, float norm_scale) {
  TUNE_ASSIGN_OR_RETURN(formats::SafetensorsFile weights, formats::SafetensorsFile::Open(fixture / "model.safetensors"));
  TUNE_ASSIGN_OR_RETURN(std::string config, core::ReadFile(fixture / "config.json"));
  TUNE_ASSIGN_OR_RETURN(std::string tokenizer_bytes, core::ReadFile(tokenizer));
  const formats::TensorView* norm = weights.Find("model.norm.weight");
  if (norm == nullptr || norm->dtype != formats::DType::kF32) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "%s: no F32 tensor model.norm.weight; hint: pass the tiny-llama fixture directory",
        (fixture / "model.safetensors").string()));
  }
  std::vector<float> scaled(static_cast<size_t>(norm->numel()));
  std::memcpy(scaled.data(), norm->data, norm->nbytes);
  for (float& w : scaled) w *= norm_scale;
  formats::SafetensorsWriter writer;
  for (const formats::TensorView& t : weights.tensors()) {
    std::string_view data(reinterpret_cast<const char*>(t.data), t.nbytes);
    if (&t == norm) data = std::string_view(reinterpret_cast<const char*>(scaled.data()), t.nbytes);
    TUNE_RETURN_IF_ERROR(writer.Add(t.name, t.dtype, t.shape, data));
  }
  writer.SetMetadata("format", "pt");
  std::error_code ec;
  std::filesystem::create_directories(out, ec);
  if (ec) return absl::PermissionDeniedError(absl::StrFormat("cannot create %s: %s", out.string(), ec.message()));
  TUNE_RETURN_IF_ERROR(writer.Write(out / "model.safetensors"));
  TUNE_RETURN_IF_ERROR(core::WriteFileAtomic(out / "config.json", config));
  return core::WriteFileAtomic(out / "tokenizer.model", tokenizer_bytes);
}

}  // namespace tune::model

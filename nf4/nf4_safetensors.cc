#include "nf4/nf4_safetensors.h"

#include <cstring>
#include <nlohmann/json.hpp>

#include "absl/strings/str_format.h"
#include "core/status.h"

namespace tune::nf4 {
namespace {

using formats::DType;
using formats::TensorView;

constexpr std::string_view kQuantStateSuffix = ".quant_state.bitsandbytes__nf4";

template <typename T>
std::string_view Bytes(const T* data, size_t count) {
  return {reinterpret_cast<const char*>(data), count * sizeof(T)};
}

absl::StatusOr<const TensorView*> Companion(const formats::SafetensorsCheckpoint& checkpoint,
                                            std::string_view name, std::string_view suffix,
                                            DType dtype, int64_t numel) {
  const std::string key = absl::StrFormat("%s%s", name, suffix);
  const TensorView* view = checkpoint.Find(key);
  if (view == nullptr) {
    return absl::DataLossError(absl::StrFormat(
        "%s: NF4 weight %s has no %s; hint: bnb-4bit checkpoints store six entries per weight",
        checkpoint.origin().string(), name, key));
  }
  if (view->dtype != dtype || (numel >= 0 && view->numel() != numel)) {
    return absl::DataLossError(absl::StrFormat(
        "%s: %s is %s with %d elements, expected %s with %d", checkpoint.origin().string(), key,
        formats::DTypeName(view->dtype), view->numel(), formats::DTypeName(dtype), numel));
  }
  return view;
}

template <typename T>
void CopyTo(const TensorView& view, std::vector<T>* out) {
  out->resize(view.nbytes / sizeof(T));
  std::memcpy(out->data(), view.data, view.nbytes);
}

}  // namespace

std::string BnbQuantStateJson(const BnbNf4Tensor& tensor) {
  nlohmann::ordered_json j;
  j["quant_type"] = "nf4";
  j["blocksize"] = tensor.weights.layout.block;
  j["dtype"] = tensor.dtype;
  j["shape"] = tensor.shape;
  if (tensor.double_quantized) {
    j["nested_blocksize"] = tensor.weights.layout.nested_block;
    j["nested_dtype"] = "float32";
    j["nested_offset"] = static_cast<double>(tensor.weights.offset);
  }
  return j.dump();
}

absl::Status AddBnbNf4(std::string_view name, const BnbNf4Tensor& tensor,
                       std::string_view quant_state_json, formats::SafetensorsWriter* writer) {
  const Nf4Weights& w = tensor.weights;
  int64_t numel = 1;
  for (int64_t d : tensor.shape) numel *= d;
  if (numel != w.layout.numel) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "NF4 weight %s: shape has %d elements but %d were quantized", name, numel, w.layout.numel));
  }
  const std::string key(name);
  TUNE_RETURN_IF_ERROR(writer->Add(key, DType::kU8, {w.layout.packed_bytes(), 1},
                                   Bytes(w.packed.data(), w.packed.size())));
  if (tensor.double_quantized) {
    TUNE_RETURN_IF_ERROR(writer->Add(key + ".absmax", DType::kU8, {w.layout.num_blocks()},
                                     Bytes(w.qabsmax.data(), w.qabsmax.size())));
  } else {
    TUNE_RETURN_IF_ERROR(writer->Add(key + ".absmax", DType::kF32, {w.layout.num_blocks()},
                                     Bytes(tensor.absmax.data(), tensor.absmax.size())));
  }
  TUNE_RETURN_IF_ERROR(
      writer->Add(key + ".quant_map", DType::kF32, {16}, Bytes(kNf4Code.data(), kNf4Code.size())));
  if (tensor.double_quantized) {
    TUNE_RETURN_IF_ERROR(writer->Add(key + ".nested_absmax", DType::kF32,
                                     {w.layout.num_nested_blocks()},
                                     Bytes(w.absmax2.data(), w.absmax2.size())));
    TUNE_RETURN_IF_ERROR(writer->Add(key + ".nested_quant_map", DType::kF32, {256},
                                     Bytes(w.nested_code.data(), w.nested_code.size())));
  }
  return writer->Add(key + std::string(kQuantStateSuffix), DType::kU8,
                     {static_cast<int64_t>(quant_state_json.size())}, quant_state_json);
}

absl::StatusOr<BnbNf4Tensor> ReadBnbNf4(const formats::SafetensorsCheckpoint& checkpoint,
                                        std::string_view name) {
  const std::string origin = checkpoint.origin().string();
  const TensorView* packed = checkpoint.Find(name);
  if (packed == nullptr) {
    return absl::NotFoundError(absl::StrFormat("%s: no tensor %s", origin, name));
  }
  if (checkpoint.Find(absl::StrFormat("%s.quant_state.bitsandbytes__fp4", name)) != nullptr) {
    return absl::UnimplementedError(absl::StrFormat(
        "%s: %s is bitsandbytes FP4; hint: tune reads NF4 (bnb_4bit_quant_type=\"nf4\")", origin,
        name));
  }
  TUNE_ASSIGN_OR_RETURN(const TensorView* state,
                        Companion(checkpoint, name, kQuantStateSuffix, DType::kU8, -1));
  const nlohmann::json j = nlohmann::json::parse(
      std::string_view(reinterpret_cast<const char*>(state->data), state->nbytes), nullptr,
      /*allow_exceptions=*/false);
  auto bad_state = [&] {
    return absl::DataLossError(absl::StrFormat("%s: %s%s is not a quant state tune can read: %s",
                                               origin, name, kQuantStateSuffix, j.dump()));
  };
  if (!j.is_object() || j.value("quant_type", "") != "nf4" || !j.contains("shape") ||
      !j["shape"].is_array() || !j.contains("blocksize") || !j["blocksize"].is_number_integer()) {
    return bad_state();
  }

  BnbNf4Tensor out;
  out.double_quantized = j.contains("nested_offset");
  out.dtype = j.value("dtype", "");
  Nf4Layout& layout = out.weights.layout;
  layout.numel = 1;
  for (const nlohmann::json& d : j["shape"]) {
    if (!d.is_number_integer() || d.get<int64_t>() < 0 || d.get<int64_t>() > (int64_t{1} << 40)) {
      return bad_state();
    }
    out.shape.push_back(d.get<int64_t>());
    layout.numel *= out.shape.back();
  }
  const int64_t block = j["blocksize"].get<int64_t>();
  if (block < 64 || block > 4096 || (block & (block - 1)) != 0) return bad_state();
  layout.block = static_cast<int>(block);
  if (out.double_quantized) {
    const nlohmann::json& nested = j.value("nested_blocksize", nlohmann::json());
    if (!nested.is_number_integer() || nested.get<int64_t>() <= 0 ||
        nested.get<int64_t>() > 65536 || !j["nested_offset"].is_number()) {
      return bad_state();
    }
    layout.nested_block = nested.get<int>();
    out.weights.offset = j["nested_offset"].get<float>();
  }

  if (packed->dtype != DType::kU8 ||
      static_cast<int64_t>(packed->nbytes) != layout.packed_bytes()) {
    return absl::DataLossError(
        absl::StrFormat("%s: %s is %s of %d bytes, expected U8 of %d for shape %s", origin, name,
                        formats::DTypeName(packed->dtype), packed->nbytes, layout.packed_bytes(),
                        j["shape"].dump()));
  }
  TUNE_ASSIGN_OR_RETURN(
      const TensorView* absmax,
      Companion(checkpoint, name, ".absmax", out.double_quantized ? DType::kU8 : DType::kF32,
                layout.num_blocks()));
  TUNE_ASSIGN_OR_RETURN(const TensorView* quant_map,
                        Companion(checkpoint, name, ".quant_map", DType::kF32, 16));
  if (std::memcmp(quant_map->data, kNf4Code.data(), sizeof(kNf4Code)) != 0) {
    return absl::DataLossError(
        absl::StrFormat("%s: %s.quant_map is not the NF4 code table", origin, name));
  }
  CopyTo(*packed, &out.weights.packed);
  if (!out.double_quantized) {
    CopyTo(*absmax, &out.absmax);
    return out;
  }
  TUNE_ASSIGN_OR_RETURN(
      const TensorView* absmax2,
      Companion(checkpoint, name, ".nested_absmax", DType::kF32, layout.num_nested_blocks()));
  TUNE_ASSIGN_OR_RETURN(const TensorView* nested_map,
                        Companion(checkpoint, name, ".nested_quant_map", DType::kF32, 256));
  CopyTo(*absmax, &out.weights.qabsmax);
  CopyTo(*absmax2, &out.weights.absmax2);
  std::memcpy(out.weights.nested_code.data(), nested_map->data, sizeof(out.weights.nested_code));
  return out;
}

}  // namespace tune::nf4

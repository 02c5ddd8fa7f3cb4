#include "model/tensor_io.h"

#include <ATen/ATen.h>

#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "core/status.h"

namespace tune::model {
namespace {

std::optional<at::ScalarType> ScalarTypeOf(formats::DType dtype) {
  switch (dtype) {
    case formats::DType::kF64: return at::kDouble;
    case formats::DType::kF32: return at::kFloat;
    case formats::DType::kF16: return at::kHalf;
    case formats::DType::kBF16: return at::kBFloat16;
    case formats::DType::kI64: return at::kLong;
    case formats::DType::kI32: return at::kInt;
    case formats::DType::kI16: return at::kShort;
    case formats::DType::kI8: return at::kChar;
    case formats::DType::kU8: return at::kByte;
    case formats::DType::kBool: return at::kBool;
  }
  return std::nullopt;
}

std::optional<formats::DType> DTypeOf(at::ScalarType type) {
  for (formats::DType d : {formats::DType::kF64, formats::DType::kF32, formats::DType::kF16,
                           formats::DType::kBF16, formats::DType::kI64, formats::DType::kI32,
                           formats::DType::kI16, formats::DType::kI8, formats::DType::kU8,
                           formats::DType::kBool}) {
    if (ScalarTypeOf(d) == type) return d;
  }
  return std::nullopt;
}

}  // namespace

absl::StatusOr<at::Tensor> ToTensor(const formats::TensorView& view, at::ScalarType dtype) {
  std::optional<at::ScalarType> source = ScalarTypeOf(view.dtype);
  if (!source) {
    return absl::UnimplementedError(
        absl::StrFormat("tensor '%s': dtype %s has no ATen type", view.name,
                        formats::DTypeName(view.dtype)));
  }
  // from_blob does not own the mapped bytes; the copy below is the only resident copy.
  at::Tensor mapped = at::from_blob(const_cast<uint8_t*>(view.data), view.shape,
                                    at::TensorOptions().dtype(*source));
  return mapped.to(dtype, /*non_blocking=*/false, /*copy=*/true);
}

absl::StatusOr<at::Tensor> LoadTensor(const formats::SafetensorsCheckpoint& checkpoint,
                                      std::string_view name, const std::vector<int64_t>& shape,
                                      at::ScalarType dtype) {
  const formats::TensorView* view = checkpoint.Find(name);
  if (view == nullptr) {
    return absl::DataLossError(absl::StrFormat(
        "%s: tensor '%s' is missing; hint: the checkpoint does not match its config.json",
        checkpoint.origin().string(), name));
  }
  if (view->shape != shape) {
    return absl::DataLossError(absl::StrFormat(
        "%s: tensor '%s' has shape [%s], config.json implies [%s]", checkpoint.origin().string(),
        name, absl::StrJoin(view->shape, ", "), absl::StrJoin(shape, ", ")));
  }
  return ToTensor(*view, dtype);
}

absl::Status WriteSafetensors(const std::filesystem::path& path,
                              const std::vector<std::pair<std::string, at::Tensor>>& tensors) {
  formats::SafetensorsWriter writer;
  std::vector<at::Tensor> keep_alive;
  for (const auto& [name, tensor] : tensors) {
    std::optional<formats::DType> dtype = DTypeOf(tensor.scalar_type());
    if (!dtype) {
      return absl::UnimplementedError(
          absl::StrFormat("tensor '%s': no safetensors dtype for it", name));
    }
    at::Tensor cpu = tensor.detach().to(at::kCPU).contiguous();
    keep_alive.push_back(cpu);
    std::vector<int64_t> shape(cpu.sizes().begin(), cpu.sizes().end());
    TUNE_RETURN_IF_ERROR(writer.Add(
        name, *dtype, shape,
        std::string_view(static_cast<const char*>(cpu.data_ptr()), cpu.nbytes())));
  }
  return writer.Write(path);
}

}  // namespace tune::model

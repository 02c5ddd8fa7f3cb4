// Conversion between on-disk tensors (formats/safetensors.h) and ATen tensors.
#pragma once

#include <ATen/core/Tensor.h>

#include <cstdint>
#include <filesystem>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "formats/safetensors.h"

namespace tune::model {

// Copies the tensor out of the (mapped) file into a new CPU tensor of `dtype`.
// Unimplemented for on-disk dtypes with no ATen equivalent.
absl::StatusOr<at::Tensor> ToTensor(const formats::TensorView& view, at::ScalarType dtype);

// Looks `name` up in `checkpoint`, checks its shape, converts it. DataLoss names the
// checkpoint and the tensor when it is missing or has another shape.
absl::StatusOr<at::Tensor> LoadTensor(const formats::SafetensorsCheckpoint& checkpoint,
                                      std::string_view name, const std::vector<int64_t>& shape,
                                      at::ScalarType dtype);

// Writes CPU tensors (contiguous copies are made as needed) to a safetensors file atomically.
absl::Status WriteSafetensors(const std::filesystem::path& path,
                              const std::vector<std::pair<std::string, at::Tensor>>& tensors);

}  // namespace tune::model

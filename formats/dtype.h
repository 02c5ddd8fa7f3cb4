// Element types of tensors stored on disk, shared by the safetensors and GGUF code.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string_view>

namespace tune::formats {

enum class DType : uint8_t { kF64, kF32, kF16, kBF16, kI64, kI32, kI16, kI8, kU8, kBool };

// Bytes per element.
size_t DTypeSize(DType dtype);
// The safetensors spelling: "F32", "BF16", "I64", ...
std::string_view DTypeName(DType dtype);
std::optional<DType> DTypeFromName(std::string_view name);

// Scalar conversions used where a tensor is read element by element (bf16/f16 -> f32).
float Bf16ToF32(uint16_t bits);
uint16_t F32ToBf16(float value);  // round to nearest even, as torch does
float F16ToF32(uint16_t bits);
uint16_t F32ToF16(float value);   // round to nearest even

}  // namespace tune::formats

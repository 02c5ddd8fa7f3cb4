// Value and tensor types of the GGUF v3 container (ggml's gguf.h / ggml.h numbering).
//
// Metadata values are a std::variant whose alternatives cover every GGUF scalar type and one
// homogeneous array per element type; GGUF allows arrays of arrays but ggml rejects them, so
// tune does too. The ggml tensor types are the subset tune reads and writes; any other id is
// Unimplemented when read.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "absl/status/statusor.h"

namespace tune::gguf {

inline constexpr uint32_t kGgufMagic = 0x46554747;  // "GGUF" read as little-endian u32
inline constexpr uint32_t kGgufVersion = 3;
inline constexpr uint64_t kDefaultAlignment = 32;
inline constexpr size_t kMaxTensorNameBytes = 63;  // GGML_MAX_NAME (64) minus the NUL
inline constexpr int kMaxDims = 4;
inline constexpr std::string_view kAlignmentKey = "general.alignment";

// On-disk gguf_type ids.
enum class ValueType : int32_t {
  kUint8 = 0,
  kInt8 = 1,
  kUint16 = 2,
  kInt16 = 3,
  kUint32 = 4,
  kInt32 = 5,
  kFloat32 = 6,
  kBool = 7,
  kString = 8,
  kArray = 9,
  kUint64 = 10,
  kInt64 = 11,
  kFloat64 = 12,
};
std::string_view ValueTypeName(ValueType type);

using Value = std::variant<uint8_t, int8_t, uint16_t, int16_t, uint32_t, int32_t, uint64_t, int64_t,
                           float, double, bool, std::string,  //
                           std::vector<uint8_t>, std::vector<int8_t>, std::vector<uint16_t>,
                           std::vector<int16_t>, std::vector<uint32_t>, std::vector<int32_t>,
                           std::vector<uint64_t>, std::vector<int64_t>, std::vector<float>,
                           std::vector<double>, std::vector<bool>, std::vector<std::string>>;

// kArray for every vector alternative.
ValueType TypeOf(const Value& value);
// The element type of an array value; the value's own type for scalars.
ValueType ElementTypeOf(const Value& value);
// "u32", "arr[str]", ... for error messages.
std::string DescribeType(const Value& value);

struct KeyValue {
  std::string key;
  Value value;
  bool operator==(const KeyValue&) const = default;
};

// ggml_type ids of the tensor types tune handles.
enum class GgmlType : uint32_t {
  kF32 = 0,
  kF16 = 1,
  kQ4_0 = 2,
  kQ5_0 = 6,
  kQ5_1 = 7,
  kQ8_0 = 8,
  kQ4_K = 12,
  kQ5_K = 13,
  kQ6_K = 14,
  kBF16 = 30,
};

// ggml_type_name spelling: "f32", "q4_K", ...
std::string_view GgmlTypeName(GgmlType type);
// Elements per block (1 for float types) and bytes per block.
int64_t GgmlBlockSize(GgmlType type);
size_t GgmlTypeSize(GgmlType type);
bool IsQuantized(GgmlType type);
// Unimplemented naming the id for types tune does not handle (including ones ggml knows).
absl::StatusOr<GgmlType> GgmlTypeFromId(uint32_t id);

// Bytes of a tensor of `type` with dims `ne` (ne[0] = row length). InvalidArgument when ne[0]
// is not a multiple of the block size, a dim is negative, or the size overflows 64 bits.
absl::StatusOr<uint64_t> TensorBytes(GgmlType type, const std::vector<int64_t>& ne);

// Rounds `offset` up to a multiple of `alignment` (a power of two).
inline uint64_t PadTo(uint64_t offset, uint64_t alignment) {
  return (offset + alignment - 1) & ~(alignment - 1);
}

}  // namespace tune::gguf

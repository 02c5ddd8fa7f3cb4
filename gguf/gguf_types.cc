#include "gguf/gguf_types.h"

#include <array>
#include <limits>

#include "absl/strings/str_format.h"

namespace tune::gguf {
namespace {

// Value's alternatives, in declaration order: 12 scalars, then the 12 arrays of the same types.
constexpr size_t kScalarAlternatives = 12;
constexpr std::array<ValueType, kScalarAlternatives> kAlternativeTypes = {
    ValueType::kUint8,   ValueType::kInt8,    ValueType::kUint16, ValueType::kInt16,
    ValueType::kUint32,  ValueType::kInt32,   ValueType::kUint64, ValueType::kInt64,
    ValueType::kFloat32, ValueType::kFloat64, ValueType::kBool,   ValueType::kString,
};
static_assert(std::variant_size_v<Value> == 2 * kScalarAlternatives);

struct TypeTraits {
  GgmlType type;
  std::string_view name;
  int64_t block_size;
  size_t type_size;
};

// Block sizes and byte sizes from ggml-common.h.
constexpr std::array<TypeTraits, 10> kTraits = {{
    {GgmlType::kF32, "f32", 1, 4},
    {GgmlType::kF16, "f16", 1, 2},
    {GgmlType::kQ4_0, "q4_0", 32, 18},
    {GgmlType::kQ5_0, "q5_0", 32, 22},
    {GgmlType::kQ5_1, "q5_1", 32, 24},
    {GgmlType::kQ8_0, "q8_0", 32, 34},
    {GgmlType::kQ4_K, "q4_K", 256, 144},
    {GgmlType::kQ5_K, "q5_K", 256, 176},
    {GgmlType::kQ6_K, "q6_K", 256, 210},
    {GgmlType::kBF16, "bf16", 1, 2},
}};

const TypeTraits& Traits(GgmlType type) {
  for (const TypeTraits& t : kTraits) {
    if (t.type == type) return t;
  }
  return kTraits[0];  // unreachable: GgmlType only holds the ids above
}

}  // namespace

std::string_view ValueTypeName(ValueType type) {
  switch (type) {
    case ValueType::kUint8:
      return "u8";
    case ValueType::kInt8:
      return "i8";
    case ValueType::kUint16:
      return "u16";
    case ValueType::kInt16:
      return "i16";
    case ValueType::kUint32:
      return "u32";
    case ValueType::kInt32:
      return "i32";
    case ValueType::kFloat32:
      return "f32";
    case ValueType::kBool:
      return "bool";
    case ValueType::kString:
      return "str";
    case ValueType::kArray:
      return "arr";
    case ValueType::kUint64:
      return "u64";
    case ValueType::kInt64:
      return "i64";
    case ValueType::kFloat64:
      return "f64";
  }
  return "unknown";
}

ValueType TypeOf(const Value& value) {
  return value.index() < kScalarAlternatives ? kAlternativeTypes[value.index()] : ValueType::kArray;
}

ValueType ElementTypeOf(const Value& value) {
  return kAlternativeTypes[value.index() % kScalarAlternatives];
}

std::string DescribeType(const Value& value) {
  if (TypeOf(value) != ValueType::kArray) return std::string(ValueTypeName(TypeOf(value)));
  return absl::StrFormat("arr[%s]", ValueTypeName(ElementTypeOf(value)));
}

std::string_view GgmlTypeName(GgmlType type) { return Traits(type).name; }
int64_t GgmlBlockSize(GgmlType type) { return Traits(type).block_size; }
size_t GgmlTypeSize(GgmlType type) { return Traits(type).type_size; }
bool IsQuantized(GgmlType type) { return Traits(type).block_size > 1; }

absl::StatusOr<GgmlType> GgmlTypeFromId(uint32_t id) {
  for (const TypeTraits& t : kTraits) {
    if (static_cast<uint32_t>(t.type) == id) return t.type;
  }
  return absl::UnimplementedError(absl::StrFormat(
      "ggml tensor type %u is not supported; hint: tune reads f32, f16, bf16, q4_0, q5_0, q5_1, "
      "q8_0, q4_K, q5_K, q6_K",
      id));
}

absl::StatusOr<uint64_t> TensorBytes(GgmlType type, const std::vector<int64_t>& ne) {
  if (ne.empty() || ne.size() > static_cast<size_t>(kMaxDims)) {
    return absl::InvalidArgumentError(
        absl::StrFormat("tensor has %d dims; expected 1 to %d", ne.size(), kMaxDims));
  }
  for (int64_t n : ne) {
    if (n < 0) return absl::InvalidArgumentError(absl::StrFormat("negative dim %d", n));
  }
  const TypeTraits& t = Traits(type);
  if (ne[0] % t.block_size != 0) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "row length %d is not a multiple of the %s block size %d", ne[0], t.name, t.block_size));
  }
  uint64_t bytes = static_cast<uint64_t>(ne[0] / t.block_size) * t.type_size;
  for (size_t i = 1; i < ne.size(); ++i) {
    uint64_t n = static_cast<uint64_t>(ne[i]);
    if (n != 0 && bytes > std::numeric_limits<uint64_t>::max() / 2 / n) {
      return absl::InvalidArgumentError("tensor size overflows 64 bits");
    }
    bytes *= n;
  }
  return bytes;
}

}  // namespace tune::gguf

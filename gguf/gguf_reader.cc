#include "gguf/gguf_reader.h"

#include <bit>
#include <cstring>
#include <set>
#include <type_traits>

#include "core/status.h"

namespace tune::gguf {
namespace {

static_assert(std::endian::native == std::endian::little, "GGUF is read by memcpy on LE hosts");

// Bounds-checked sequential reads over the mapped header; every failure is DataLoss naming the
// file, the field being read and its byte offset.
class Cursor {
 public:
  Cursor(std::string_view bytes, const std::filesystem::path& path) : bytes_(bytes), path_(path) {}

  uint64_t pos() const { return pos_; }
  const std::filesystem::path& path() const { return path_; }
  uint64_t remaining() const { return bytes_.size() - pos_; }

  absl::Status Corrupt(std::string_view field, std::string_view problem) const {
    return absl::DataLossError(
        absl::StrFormat("%s: %s at byte %d: %s; hint: the file is corrupt "
                        "or truncated, export or download it again",
                        path_.string(), field, pos_, problem));
  }

  template <typename T>
  absl::StatusOr<T> Read(std::string_view field) {
    static_assert(std::is_trivially_copyable_v<T>);
    if (remaining() < sizeof(T)) {
      return Corrupt(field, absl::StrFormat("needs %d bytes, %d left", sizeof(T), remaining()));
    }
    T value;
    std::memcpy(&value, bytes_.data() + pos_, sizeof(T));
    pos_ += sizeof(T);
    return value;
  }

  absl::StatusOr<std::string> ReadString(std::string_view field) {
    TUNE_ASSIGN_OR_RETURN(uint64_t len, Read<uint64_t>(field));
    if (len > remaining()) {
      return Corrupt(field, absl::StrFormat("string length %d runs past the end of the file (%d "
                                            "bytes left)",
                                            len, remaining()));
    }
    std::string s(bytes_.substr(pos_, len));
    pos_ += len;
    return s;
  }

  // Rejects a count that cannot fit in what is left, before anything is allocated for it.
  absl::Status CheckCount(std::string_view field, uint64_t count, uint64_t min_bytes_each) const {
    if (count > remaining() / min_bytes_each) {
      return Corrupt(field, absl::StrFormat("count %d needs at least %d bytes each, only %d "
                                            "bytes left",
                                            count, min_bytes_each, remaining()));
    }
    return absl::OkStatus();
  }

 private:
  std::string_view bytes_;
  const std::filesystem::path& path_;
  uint64_t pos_ = 0;
};

template <typename T>
absl::StatusOr<Value> ReadScalar(Cursor& in, std::string_view field) {
  if constexpr (std::is_same_v<T, bool>) {
    TUNE_ASSIGN_OR_RETURN(uint8_t b, in.Read<uint8_t>(field));
    return Value(b != 0);
  } else if constexpr (std::is_same_v<T, std::string>) {
    TUNE_ASSIGN_OR_RETURN(std::string s, in.ReadString(field));
    return Value(std::move(s));
  } else {
    TUNE_ASSIGN_OR_RETURN(T v, in.Read<T>(field));
    return Value(v);
  }
}

template <typename T>
absl::StatusOr<Value> ReadArray(Cursor& in, std::string_view field, uint64_t count) {
  constexpr uint64_t kMinBytes = std::is_same_v<T, std::string> ? 8 : sizeof(T);
  TUNE_RETURN_IF_ERROR(in.CheckCount(field, count, kMinBytes));
  std::vector<T> out;
  // Reserving is safe where the count check bounds the allocation by the bytes left; a string
  // object is larger than its 8-byte length prefix, so corrupt counts could inflate it.
  if constexpr (!std::is_same_v<T, std::string>) out.reserve(count);
  for (uint64_t i = 0; i < count; ++i) {
    TUNE_ASSIGN_OR_RETURN(Value v, ReadScalar<T>(in, field));
    out.push_back(std::get<T>(std::move(v)));
  }
  return Value(std::move(out));
}

// Calls fn.template operator()<T>() with the C++ type of a scalar gguf_type.
template <typename Fn>
absl::StatusOr<Value> DispatchScalar(int32_t type, Cursor& in, std::string_view field, Fn&& fn) {
  switch (static_cast<ValueType>(type)) {
    case ValueType::kUint8:
      return fn.template operator()<uint8_t>();
    case ValueType::kInt8:
      return fn.template operator()<int8_t>();
    case ValueType::kUint16:
      return fn.template operator()<uint16_t>();
    case ValueType::kInt16:
      return fn.template operator()<int16_t>();
    case ValueType::kUint32:
      return fn.template operator()<uint32_t>();
    case ValueType::kInt32:
      return fn.template operator()<int32_t>();
    case ValueType::kFloat32:
      return fn.template operator()<float>();
    case ValueType::kBool:
      return fn.template operator()<bool>();
    case ValueType::kString:
      return fn.template operator()<std::string>();
    case ValueType::kUint64:
      return fn.template operator()<uint64_t>();
    case ValueType::kInt64:
      return fn.template operator()<int64_t>();
    case ValueType::kFloat64:
      return fn.template operator()<double>();
    case ValueType::kArray:
      return absl::UnimplementedError(absl::StrFormat(
          "%s: %s: arrays of arrays are not supported (as in ggml)", in.path().string(), field));
  }
  return in.Corrupt(field, absl::StrFormat("unknown value type %d", type));
}

absl::StatusOr<Value> ReadValue(Cursor& in, std::string_view field) {
  TUNE_ASSIGN_OR_RETURN(int32_t type, in.Read<int32_t>(field));
  if (static_cast<ValueType>(type) != ValueType::kArray) {
    return DispatchScalar(type, in, field, [&]<typename T>() { return ReadScalar<T>(in, field); });
  }
  TUNE_ASSIGN_OR_RETURN(int32_t elem_type, in.Read<int32_t>(field));
  TUNE_ASSIGN_OR_RETURN(uint64_t count, in.Read<uint64_t>(field));
  return DispatchScalar(elem_type, in, field,
                        [&]<typename T>() { return ReadArray<T>(in, field, count); });
}

}  // namespace

int64_t TensorInfo::numel() const {
  int64_t n = 1;
  for (int64_t d : ne) n *= d;
  return n;
}

absl::StatusOr<GgufFile> GgufFile::Open(const std::filesystem::path& path) {
  TUNE_ASSIGN_OR_RETURN(core::MappedFile mapped, core::MappedFile::Open(path));
  GgufFile file(std::move(mapped));
  TUNE_RETURN_IF_ERROR(file.Parse());
  return file;
}

namespace {

struct Header {
  uint32_t version = 0;
  uint64_t n_tensors = 0, n_kv = 0;
};

absl::StatusOr<Header> ParseHeader(Cursor& in, const std::filesystem::path& path) {
  Header h;
  TUNE_ASSIGN_OR_RETURN(uint32_t magic, in.Read<uint32_t>("magic"));
  if (magic != kGgufMagic) {
    return absl::DataLossError(absl::StrFormat(
        "%s: bad magic 0x%08x, expected 0x%08x (\"GGUF\"); hint: this is not a GGUF file", path.string(),
        magic, kGgufMagic));
  }
  TUNE_ASSIGN_OR_RETURN(h.version, in.Read<uint32_t>("version"));
  if ((h.version & 0xFFFF) == 0) {
    return in.Corrupt("version", absl::StrFormat("0x%08x looks byte-swapped; big-endian GGUF is not supported",
                                                 h.version));
  }
  if (h.version < 2 || h.version > kGgufVersion) {
    return absl::UnimplementedError(
        absl::StrFormat("%s: GGUF version %d is not supported (2 and 3 are)", path.string(), h.version));
  }
  TUNE_ASSIGN_OR_RETURN(h.n_tensors, in.Read<uint64_t>("tensor count"));
  TUNE_ASSIGN_OR_RETURN(h.n_kv, in.Read<uint64_t>("metadata count"));
  // Smallest KV: key length (8) + one key byte + type (4) + a one-byte value.
  TUNE_RETURN_IF_ERROR(in.CheckCount("metadata count", h.n_kv, 14));
  // Smallest tensor info: name length (8) + one byte + n_dims (4) + one dim (8) + type (4) +
  // offset (8).
  TUNE_RETURN_IF_ERROR(in.CheckCount("tensor count", h.n_tensors, 33));
  return h;
}

absl::Status ParseMetadata(Cursor& in, uint64_t n_kv, std::vector<KeyValue>& metadata) {
  std::set<std::string, std::less<>> keys;
  for (uint64_t i = 0; i < n_kv; ++i) {
    TUNE_ASSIGN_OR_RETURN(std::string key, in.ReadString(absl::StrFormat("metadata key #%d", i)));
    if (key.empty()) return in.Corrupt(absl::StrFormat("metadata key #%d", i), "empty key");
    if (!keys.insert(key).second) return in.Corrupt(absl::StrFormat("metadata key '%s'", key), "duplicate key");
    TUNE_ASSIGN_OR_RETURN(Value value, ReadValue(in, absl::StrFormat("metadata '%s'", key)));
    metadata.push_back({std::move(key), std::move(value)});
  }
  return absl::OkStatus();
}

// One tensor info, checked against the file: its name, shape, type, size and the offset ggml
// would give it (tensors packed in info order, each padded to the alignment).
absl::StatusOr<TensorInfo> ParseTensorInfo(Cursor& in, uint64_t index, uint64_t file_size, uint64_t expected_offset,
                                           uint32_t alignment, const std::filesystem::path& path) {
  TensorInfo t;
  TUNE_ASSIGN_OR_RETURN(t.name, in.ReadString(absl::StrFormat("tensor #%d name", index)));
  const std::string field = absl::StrFormat("tensor '%s'", t.name);
  if (t.name.empty() || t.name.size() > kMaxTensorNameBytes) {
    return in.Corrupt(field, absl::StrFormat("name length %d is outside 1..%d", t.name.size(), kMaxTensorNameBytes));
  }
  TUNE_ASSIGN_OR_RETURN(uint32_t n_dims, in.Read<uint32_t>(field + " n_dims"));
  if (n_dims < 1 || n_dims > static_cast<uint32_t>(kMaxDims)) {
    return in.Corrupt(field, absl::StrFormat("n_dims %d is outside 1..%d", n_dims, kMaxDims));
  }
  for (uint32_t d = 0; d < n_dims; ++d) {
    TUNE_ASSIGN_OR_RETURN(int64_t n, in.Read<int64_t>(field + " ne"));
    t.ne.push_back(n);
  }
  TUNE_ASSIGN_OR_RETURN(uint32_t type_id, in.Read<uint32_t>(field + " type"));
  absl::StatusOr<GgmlType> type = GgmlTypeFromId(type_id);
  if (!type.ok()) return core::Annotate(type.status(), path.string() + ": " + field);
  t.type = *type;
  absl::StatusOr<uint64_t> nbytes = TensorBytes(t.type, t.ne);
  if (!nbytes.ok()) return in.Corrupt(field, std::string(nbytes.status().message()));
  t.nbytes = *nbytes;
  // Offsets stay below the file size by induction, so no sum below can overflow.
  if (t.nbytes > file_size) {
    return in.Corrupt(field, absl::StrFormat("%d data bytes exceed the file size %d", t.nbytes, file_size));
  }
  TUNE_ASSIGN_OR_RETURN(t.offset, in.Read<uint64_t>(field + " offset"));
  // Any other offset is a file ggml refuses, so tune refuses it too.
  if (t.offset != expected_offset) {
    return in.Corrupt(field, absl::StrFormat("offset %d, expected %d (tensors are packed in order, each padded "
                                             "to %d bytes)",
                                             t.offset, expected_offset, alignment));
  }
  if (t.offset + t.nbytes > file_size) {
    return in.Corrupt(field, absl::StrFormat("data ends at %d, past the file size %d", t.offset + t.nbytes, file_size));
  }
  return t;
}

}  // namespace

absl::Status GgufFile::ReadAlignment() {
  const Value* align = Find(kAlignmentKey);
  if (align == nullptr) return absl::OkStatus();
  const uint32_t* a = std::get_if<uint32_t>(align);
  if (a == nullptr || *a == 0 || (*a & (*a - 1)) != 0) {
    return absl::DataLossError(absl::StrFormat("%s: general.alignment must be a u32 power of two, got %s%s",
                                               path().string(), DescribeType(*align),
                                               a != nullptr ? absl::StrFormat(" %d", *a) : ""));
  }
  alignment_ = *a;
  return absl::OkStatus();
}

absl::Status GgufFile::Parse() {
  Cursor in(file_.view(), file_.path());
  TUNE_ASSIGN_OR_RETURN(Header header, ParseHeader(in, path()));
  version_ = header.version;
  TUNE_RETURN_IF_ERROR(ParseMetadata(in, header.n_kv, metadata_));
  TUNE_RETURN_IF_ERROR(ReadAlignment());
  std::set<std::string, std::less<>> names;
  uint64_t expected_offset = 0;
  for (uint64_t i = 0; i < header.n_tensors; ++i) {
    TUNE_ASSIGN_OR_RETURN(TensorInfo t, ParseTensorInfo(in, i, file_.size(), expected_offset, alignment_, path()));
    if (!names.insert(t.name).second) return in.Corrupt(absl::StrFormat("tensor '%s'", t.name), "duplicate tensor name");
    expected_offset = PadTo(t.offset + t.nbytes, alignment_);
    tensors_.push_back(std::move(t));
  }
  data_offset_ = PadTo(in.pos(), alignment_);
  for (const TensorInfo& t : tensors_) {
    if (data_offset_ > file_.size() || t.offset + t.nbytes > file_.size() - data_offset_) {
      return absl::DataLossError(absl::StrFormat(
          "%s: tensor '%s' data [%d, %d) lies past the end of the file (%d bytes); hint: the file is truncated, "
          "export or download it again",
          path().string(), t.name, data_offset_ + t.offset, data_offset_ + t.offset + t.nbytes, file_.size()));
    }
  }
  return absl::OkStatus();
}

const Value* GgufFile::Find(std::string_view key) const {
  for (const KeyValue& kv : metadata_) {
    if (kv.key == key) return &kv.value;
  }
  return nullptr;
}

const TensorInfo* GgufFile::FindTensor(std::string_view name) const {
  for (const TensorInfo& t : tensors_) {
    if (t.name == name) return &t;
  }
  return nullptr;
}

std::string_view GgufFile::TensorData(const TensorInfo& tensor) const {
  return file_.view().substr(data_offset_ + tensor.offset, tensor.nbytes);
}

}  // namespace tune::gguf

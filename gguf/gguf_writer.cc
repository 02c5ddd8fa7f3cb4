#include "gguf/gguf_writer.h"

#include <bit>
#include <cstring>
#include <type_traits>

#include "absl/strings/str_format.h"
#include "core/file.h"
#include "core/status.h"

namespace tune::gguf {
namespace {

static_assert(std::endian::native == std::endian::little, "GGUF is written by memcpy on LE hosts");

template <typename T>
void Put(std::string& out, T value) {
  static_assert(std::is_trivially_copyable_v<T>);
  char bytes[sizeof(T)];
  std::memcpy(bytes, &value, sizeof(T));
  out.append(bytes, sizeof(T));
}

void PutString(std::string& out, std::string_view s) {
  Put<uint64_t>(out, s.size());
  out.append(s);
}

template <typename T>
void PutScalar(std::string& out, const T& value) {
  if constexpr (std::is_same_v<T, bool>) {
    Put<uint8_t>(out, value ? 1 : 0);
  } else if constexpr (std::is_same_v<T, std::string>) {
    PutString(out, value);
  } else {
    Put<T>(out, value);
  }
}

template <typename T>
struct IsVector : std::false_type {};
template <typename T>
struct IsVector<std::vector<T>> : std::true_type {};

void PutValue(std::string& out, const Value& value) {
  Put<int32_t>(out, static_cast<int32_t>(TypeOf(value)));
  std::visit(
      [&](const auto& v) {
        using V = std::decay_t<decltype(v)>;
        if constexpr (IsVector<V>::value) {
          Put<int32_t>(out, static_cast<int32_t>(ElementTypeOf(value)));
          Put<uint64_t>(out, v.size());
          for (const auto& e : v) PutScalar<typename V::value_type>(out, e);
        } else {
          PutScalar<V>(out, v);
        }
      },
      value);
}

}  // namespace

absl::Status GgufWriter::Set(std::string key, Value value) {
  if (key.empty()) return absl::InvalidArgumentError("gguf metadata key is empty");
  if (key == kAlignmentKey) {
    const uint32_t* a = std::get_if<uint32_t>(&value);
    if (a == nullptr || *a == 0 || (*a & (*a - 1)) != 0) {
      return absl::InvalidArgumentError(
          "general.alignment must be a u32 power of two; hint: pass uint32_t{32}");
    }
  }
  for (KeyValue& kv : metadata_) {
    if (kv.key == key) {
      kv.value = std::move(value);
      return absl::OkStatus();
    }
  }
  metadata_.push_back({std::move(key), std::move(value)});
  return absl::OkStatus();
}

absl::StatusOr<GgufWriter::Entry> GgufWriter::MakeEntry(std::string name, GgmlType type,
                                                        std::vector<int64_t> ne) const {
  if (name.empty() || name.size() > kMaxTensorNameBytes) {
    return absl::InvalidArgumentError(
        absl::StrFormat("gguf tensor name '%s' has %d bytes; expected 1 to %d", name, name.size(),
                        kMaxTensorNameBytes));
  }
  for (const Entry& e : tensors_) {
    if (e.name == name) {
      return absl::InvalidArgumentError(absl::StrFormat("gguf tensor '%s' added twice", name));
    }
  }
  absl::StatusOr<uint64_t> nbytes = TensorBytes(type, ne);
  if (!nbytes.ok()) return core::Annotate(nbytes.status(), absl::StrFormat("tensor '%s'", name));
  return Entry{std::move(name), type, std::move(ne), *nbytes, {}, {}};
}

absl::Status GgufWriter::AddTensor(std::string name, GgmlType type, std::vector<int64_t> ne,
                                   std::string_view data) {
  TUNE_ASSIGN_OR_RETURN(Entry entry, MakeEntry(std::move(name), type, std::move(ne)));
  if (data.size() != entry.nbytes) {
    return absl::InvalidArgumentError(
        absl::StrFormat("gguf tensor '%s' has %d bytes of data, its %s shape needs %d", entry.name,
                        data.size(), GgmlTypeName(type), entry.nbytes));
  }
  entry.borrowed = data;
  tensors_.push_back(std::move(entry));
  return absl::OkStatus();
}

absl::Status GgufWriter::AddTensor(std::string name, GgmlType type, std::vector<int64_t> ne,
                                   TensorSource source) {
  TUNE_ASSIGN_OR_RETURN(Entry entry, MakeEntry(std::move(name), type, std::move(ne)));
  entry.source = std::move(source);
  tensors_.push_back(std::move(entry));
  return absl::OkStatus();
}

uint64_t GgufWriter::alignment() const {
  for (const KeyValue& kv : metadata_) {
    if (kv.key == kAlignmentKey) return std::get<uint32_t>(kv.value);
  }
  return kDefaultAlignment;
}

absl::Status GgufWriter::Write(const std::filesystem::path& path) const {
  const uint64_t align = alignment();
  std::string header;
  Put<uint32_t>(header, kGgufMagic);
  Put<uint32_t>(header, kGgufVersion);
  Put<uint64_t>(header, tensors_.size());
  Put<uint64_t>(header, metadata_.size());
  for (const KeyValue& kv : metadata_) {
    PutString(header, kv.key);
    PutValue(header, kv.value);
  }
  uint64_t offset = 0;
  for (const Entry& e : tensors_) {
    PutString(header, e.name);
    Put<uint32_t>(header, static_cast<uint32_t>(e.ne.size()));
    for (int64_t n : e.ne) Put<int64_t>(header, n);
    Put<uint32_t>(header, static_cast<uint32_t>(e.type));
    Put<uint64_t>(header, offset);
    offset = PadTo(offset + e.nbytes, align);
  }
  // ggml pads to the data section only when there is one.
  if (!tensors_.empty()) header.resize(PadTo(header.size(), align), '\0');

  TUNE_ASSIGN_OR_RETURN(core::AtomicFileWriter out, core::AtomicFileWriter::Open(path));
  TUNE_RETURN_IF_ERROR(out.Append(header));
  const std::string zeros(align, '\0');
  for (const Entry& e : tensors_) {
    std::string produced;
    std::string_view data = e.borrowed;
    if (e.source) {
      absl::StatusOr<std::string> bytes = e.source();
      if (!bytes.ok()) {
        return core::Annotate(bytes.status(),
                              absl::StrFormat("%s: tensor '%s'", path.string(), e.name));
      }
      produced = *std::move(bytes);
      data = produced;
      if (data.size() != e.nbytes) {
        return absl::InvalidArgumentError(
            absl::StrFormat("%s: tensor '%s' source produced %d bytes, its %s shape needs %d",
                            path.string(), e.name, data.size(), GgmlTypeName(e.type), e.nbytes));
      }
    }
    TUNE_RETURN_IF_ERROR(out.Append(data));
    TUNE_RETURN_IF_ERROR(
        out.Append(std::string_view(zeros).substr(0, PadTo(e.nbytes, align) - e.nbytes)));
  }
  return out.Commit();
}

}  // namespace tune::gguf

// Reading GGUF files (v2 and v3, little-endian), shared by `tune export` tests and the runner.
//
// Open() maps the file and validates everything before handing out a view: magic, version,
// counts against the bytes left, string lengths, key uniqueness, value and tensor types,
// general.alignment, tensor names, dims, sizes (overflow included) and that each tensor sits at
// the packed, aligned offset ggml's gguf.cpp requires and lies inside the file. Errors name
// the file and the field: DataLoss for corrupt or truncated input, Unimplemented for valid GGUF
// that tune cannot represent (tensor types it does not know, arrays of arrays).
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_format.h"
#include "core/file.h"
#include "gguf/gguf_types.h"

namespace tune::gguf {

struct TensorInfo {
  std::string name;
  GgmlType type = GgmlType::kF32;
  std::vector<int64_t> ne;  // ne[0] is the row length (fastest-varying)
  uint64_t offset = 0;      // relative to the data section
  uint64_t nbytes = 0;
  int64_t numel() const;
};

class GgufFile {
 public:
  static absl::StatusOr<GgufFile> Open(const std::filesystem::path& path);

  const std::filesystem::path& path() const { return file_.path(); }
  uint32_t version() const { return version_; }
  uint64_t alignment() const { return alignment_; }
  // Absolute file offset of the data section.
  uint64_t data_offset() const { return data_offset_; }
  // In file order.
  const std::vector<KeyValue>& metadata() const { return metadata_; }
  const std::vector<TensorInfo>& tensors() const { return tensors_; }

  // nullptr when absent.
  const Value* Find(std::string_view key) const;
  const TensorInfo* FindTensor(std::string_view name) const;
  // The tensor's bytes inside the mapping; valid while this object lives.
  std::string_view TensorData(const TensorInfo& tensor) const;

  // The value of `key` as T (one of Value's alternatives): NotFound when absent,
  // InvalidArgument naming the stored type when it is another one.
  template <typename T>
  absl::StatusOr<T> Get(std::string_view key) const {
    const Value* value = Find(key);
    if (value == nullptr) {
      return absl::NotFoundError(
          absl::StrFormat("%s: metadata key '%s' is missing", path().string(), key));
    }
    if (const T* typed = std::get_if<T>(value)) return *typed;
    return absl::InvalidArgumentError(
        absl::StrFormat("%s: metadata key '%s' has type %s, expected %s", path().string(), key,
                        DescribeType(*value), DescribeType(Value(T{}))));
  }

 private:
  explicit GgufFile(core::MappedFile file) : file_(std::move(file)) {}
  absl::Status Parse();
  absl::Status ReadAlignment();  // general.alignment, checked

  core::MappedFile file_;
  uint32_t version_ = 0;
  uint64_t alignment_ = kDefaultAlignment;
  uint64_t data_offset_ = 0;
  std::vector<KeyValue> metadata_;
  std::vector<TensorInfo> tensors_;
};

}  // namespace tune::gguf

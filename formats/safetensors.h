// Reading and writing safetensors files (Hugging Face's tensor container), without LibTorch.
//
// Layout: u64 little-endian header size N, N bytes of JSON
//   {"name": {"dtype": "F32", "shape": [..], "data_offsets": [begin, end]}, "__metadata__": {..}}
// then the data buffer; offsets are relative to the buffer. Open() validates everything a
// corrupt or hostile file could get wrong (sizes, offsets, overlaps, dtypes) before any tensor
// is touched, and maps the file instead of reading it, so a multi-GB checkpoint costs no heap.
#pragma once

#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "core/file.h"
#include "formats/dtype.h"

namespace tune::formats {

// A tensor inside a mapped file; `data` stays valid while the owning file object lives.
struct TensorView {
  std::string name;
  DType dtype = DType::kF32;
  std::vector<int64_t> shape;
  const uint8_t* data = nullptr;
  size_t nbytes = 0;
  int64_t numel() const;
};

class SafetensorsFile {
 public:
  // DataLoss naming the file and the offending tensor/field for any inconsistency;
  // Unimplemented for dtypes tune does not know (e.g. F8_E4M3).
  static absl::StatusOr<SafetensorsFile> Open(const std::filesystem::path& path);

  const std::filesystem::path& path() const { return file_.path(); }
  const std::vector<TensorView>& tensors() const { return tensors_; }
  // nullptr when absent.
  const TensorView* Find(std::string_view name) const;
  const std::map<std::string, std::string>& metadata() const { return metadata_; }

 private:
  explicit SafetensorsFile(core::MappedFile file) : file_(std::move(file)) {}
  core::MappedFile file_;
  std::vector<TensorView> tensors_;
  std::map<std::string, std::string> metadata_;
};

// The weights of a Hugging Face model directory: `model.safetensors`, or the shards listed in
// `model.safetensors.index.json`. Shards are mapped, so opening is cheap at any size.
class SafetensorsCheckpoint {
 public:
  // NotFound when the directory has neither file or a listed shard is missing;
  // DataLoss when the index names a tensor its shard does not contain.
  static absl::StatusOr<SafetensorsCheckpoint> Open(const std::filesystem::path& dir);
  // A single file (adapter_model.safetensors, reference outputs, ...).
  static absl::StatusOr<SafetensorsCheckpoint> OpenFile(const std::filesystem::path& file);

  const TensorView* Find(std::string_view name) const;
  std::vector<std::string> names() const;
  const std::filesystem::path& origin() const { return origin_; }

 private:
  std::filesystem::path origin_;
  std::vector<std::unique_ptr<SafetensorsFile>> files_;
  std::map<std::string, const TensorView*, std::less<>> by_name_;
};

// Collects tensors (borrowed bytes: keep them alive until Write returns) and writes one file
// atomically, tensors in insertion order.
class SafetensorsWriter {
 public:
  // InvalidArgument if `data.size()` does not match dtype and shape or the name repeats.
  absl::Status Add(std::string name, DType dtype, std::vector<int64_t> shape,
                   std::string_view data);
  void SetMetadata(std::string key, std::string value) { metadata_[std::move(key)] = std::move(value); }
  absl::Status Write(const std::filesystem::path& path) const;

 private:
  struct Entry {
    std::string name;
    DType dtype;
    std::vector<int64_t> shape;
    std::string_view data;
  };
  std::vector<Entry> entries_;
  std::map<std::string, std::string> metadata_;
};

}  // namespace tune::formats

// Writing GGUF v3 files the way ggml's gguf.cpp and llama.cpp's loader expect them.
//
// Layout: header, metadata in insertion order, tensor infos (dims in ggml order, ne[0] = row
// length), then, when there are tensors, zero padding to the alignment and each tensor's bytes
// padded to the alignment (the last one too, as gguf_writer.py does). The alignment is
// general.alignment when set (a u32 power of two), else 32. Write() streams through
// core::AtomicFileWriter, so a crash or a full disk mid-write leaves the previous file (or
// none), never a truncated GGUF.
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "gguf/gguf_types.h"

namespace tune::gguf {

class GgufWriter {
 public:
  // Produces a tensor's bytes when Write() reaches it, so an exporter can quantize tensor by
  // tensor and hold only one in memory.
  using TensorSource = std::function<absl::StatusOr<std::string>()>;

  // Adds or replaces `key` (replacing keeps the original position). InvalidArgument for an
  // empty key, or a general.alignment that is not a u32 power of two.
  absl::Status Set(std::string key, Value value);

  // Borrows `data` (it must outlive Write()). InvalidArgument when the name is empty, longer
  // than 63 bytes or repeated, the dims are not 1..4 non-negative values, ne[0] is not a
  // multiple of the type's block size, or data.size() does not match.
  absl::Status AddTensor(std::string name, GgmlType type, std::vector<int64_t> ne,
                         std::string_view data);
  // Same checks; the size of what `source` returns is checked when Write() calls it.
  absl::Status AddTensor(std::string name, GgmlType type, std::vector<int64_t> ne,
                         TensorSource source);

  const std::vector<KeyValue>& metadata() const { return metadata_; }

  // Writes the file atomically. A source's error aborts the write and is returned annotated
  // with the tensor name; ResourceExhausted when the disk fills up.
  absl::Status Write(const std::filesystem::path& path) const;

 private:
  struct Entry {
    std::string name;
    GgmlType type;
    std::vector<int64_t> ne;
    uint64_t nbytes;
    std::string_view borrowed;
    TensorSource source;  // empty for borrowed data
  };
  absl::StatusOr<Entry> MakeEntry(std::string name, GgmlType type, std::vector<int64_t> ne) const;
  uint64_t alignment() const;

  std::vector<KeyValue> metadata_;
  std::vector<Entry> tensors_;
};

}  // namespace tune::gguf

// Whole-file I/O with Status errors, atomic writes and read-only memory maps.
//
// Every file tune writes goes through WriteFileAtomic or AtomicFileWriter: data lands in a
// temporary file beside the target, is fsync'ed, then renamed over it, so a crash, a kill -9 or a
// full disk leaves either the old file or the new one, never a truncated one.
#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"

namespace tune::core {

// Reads the whole file. NotFound if it does not exist.
absl::StatusOr<std::string> ReadFile(const std::filesystem::path& path);

// Replaces `path` with `contents` atomically (temp file + fsync + rename).
// ResourceExhausted when the disk is full; the target is then left untouched.
absl::Status WriteFileAtomic(const std::filesystem::path& path, std::string_view contents);

// Streams a file to disk, then publishes it atomically with Commit(). Destroying the writer
// without Commit() removes the temporary file and leaves any existing target untouched.
class AtomicFileWriter {
 public:
  static absl::StatusOr<AtomicFileWriter> Open(const std::filesystem::path& path);
  AtomicFileWriter(AtomicFileWriter&& other) noexcept;
  AtomicFileWriter& operator=(AtomicFileWriter&&) = delete;
  AtomicFileWriter(const AtomicFileWriter&) = delete;
  ~AtomicFileWriter();

  // Appends; every 8 MiB appended, the kernel is asked to start writing them out, so the fsync
  // in Commit() finds little left to do.
  absl::Status Append(std::string_view bytes);
  // Overwrites bytes already appended (a header whose counts are known only at the end).
  absl::Status WriteAt(uint64_t offset, std::string_view bytes);
  absl::Status Commit();
  uint64_t bytes_written() const { return bytes_written_; }

 private:
  AtomicFileWriter(std::filesystem::path path, std::filesystem::path tmp_path, int fd)
      : path_(std::move(path)), tmp_path_(std::move(tmp_path)), fd_(fd) {}
  std::filesystem::path path_;
  std::filesystem::path tmp_path_;
  int fd_ = -1;
  uint64_t bytes_written_ = 0;
  uint64_t writeback_started_ = 0;  // bytes handed to the kernel's writeback so far
};

// A read-only memory map of a whole file. Pages are shared with the page cache, so mapping a
// multi-GB checkpoint costs no anonymous memory. Move-only; unmapped on destruction.
class MappedFile {
 public:
  static absl::StatusOr<MappedFile> Open(const std::filesystem::path& path);
  MappedFile(MappedFile&& other) noexcept;
  MappedFile& operator=(MappedFile&& other) noexcept;
  MappedFile(const MappedFile&) = delete;
  ~MappedFile();

  const uint8_t* data() const { return data_; }
  size_t size() const { return size_; }
  std::string_view view() const { return {reinterpret_cast<const char*>(data_), size_}; }
  const std::filesystem::path& path() const { return path_; }

 private:
  MappedFile(std::filesystem::path path, const uint8_t* data, size_t size)
      : path_(std::move(path)), data_(data), size_(size) {}
  std::filesystem::path path_;
  const uint8_t* data_ = nullptr;
  size_t size_ = 0;
};

// Maps an errno from a failed file operation to a Status naming the file:
// ENOENT -> NotFound, ENOSPC/EDQUOT -> ResourceExhausted, EACCES -> PermissionDenied.
absl::Status ErrnoStatus(int err, std::string_view what, const std::filesystem::path& path);

}  // namespace tune::core

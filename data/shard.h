// Token shards: the training data `tune ingest` writes and `tune train` memory-maps.
//
// File layout (little-endian, version 1; docs/ingest.md has the full spec):
//   offset 0   char[8]  magic "TUNESHRD"
//          8   u32      format version (kShardFormatVersion)
//         12   u32      header size (64)
//         16   u64      number of tokens N
//         24   u64      number of documents D
//         32   u64      XXH64 (seed 0) of every byte after the header
//         40   u32      vocabulary size V (every token id is in [0, V))
//         44   u8[20]   zero
//         64   i32[N]   token ids
//              u8[N]    loss mask (1: the token is a training target)
//              zero padding to a multiple of 8
//              u64[D+1] document boundaries: document d is tokens [b[d], b[d+1]); b[0]=0, b[D]=N
#pragma once

#include <xxhash.h>

#include <cstdint>
#include <filesystem>
#include <memory>
#include <span>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "core/file.h"

namespace tune::data {

inline constexpr uint32_t kShardFormatVersion = 1;
inline constexpr char kShardMagic[8] = {'T', 'U', 'N', 'E', 'S', 'H', 'R', 'D'};

// Writes one shard as its documents arrive: token ids stream to a temporary file beside `path`
// (the loss mask and boundaries, a quarter of that and less, wait in memory), and Finish()
// appends the rest, fills in the header and renames the file into place. Destroying an
// unfinished writer removes the temporary file. Move-only.
class ShardWriter {
 public:
  static absl::StatusOr<ShardWriter> Create(const std::filesystem::path& path,
                                            uint32_t vocab_size);

  // `loss_mask` has one entry per token. InvalidArgument on a size mismatch or an id >= vocab
  // (nothing is added then); ResourceExhausted when the disk is full.
  absl::Status AddDocument(std::span<const int32_t> tokens, std::span<const uint8_t> loss_mask);

  uint64_t num_tokens() const { return mask_.size(); }
  uint64_t num_documents() const { return boundaries_.size() - 1; }

  // Completes and publishes the file (fsync + rename). Returns the payload checksum that also
  // goes into the manifest.
  absl::StatusOr<uint64_t> Finish();

 private:
  ShardWriter(core::AtomicFileWriter file, uint32_t vocab_size);
  absl::Status AppendPayload(std::string_view bytes);

  core::AtomicFileWriter file_;
  uint32_t vocab_size_;
  std::unique_ptr<XXH64_state_t, XXH_errorcode (*)(XXH64_state_t*)> checksum_;
  std::vector<uint8_t> mask_;
  std::vector<uint64_t> boundaries_;
};

// A validated, memory-mapped shard. Move-only.
class ShardReader {
 public:
  // Checks magic, version, sizes, boundaries, token range and the checksum; DataLoss (naming
  // the file and what is wrong) on a truncated or corrupt file.
  static absl::StatusOr<ShardReader> Open(const std::filesystem::path& path);

  uint64_t num_tokens() const { return tokens_.size(); }
  uint64_t num_documents() const { return boundaries_.size() - 1; }
  uint32_t vocab_size() const { return vocab_size_; }
  uint64_t checksum() const { return checksum_; }
  std::span<const int32_t> tokens() const { return tokens_; }
  std::span<const uint8_t> loss_mask() const { return mask_; }
  std::span<const uint64_t> boundaries() const { return boundaries_; }
  std::span<const int32_t> document_tokens(uint64_t d) const {
    return tokens_.subspan(boundaries_[d], boundaries_[d + 1] - boundaries_[d]);
  }
  std::span<const uint8_t> document_mask(uint64_t d) const {
    return mask_.subspan(boundaries_[d], boundaries_[d + 1] - boundaries_[d]);
  }

 private:
  explicit ShardReader(core::MappedFile file) : file_(std::move(file)) {}
  core::MappedFile file_;
  uint32_t vocab_size_ = 0;
  uint64_t checksum_ = 0;
  std::span<const int32_t> tokens_;
  std::span<const uint8_t> mask_;
  std::span<const uint64_t> boundaries_;
};

}  // namespace tune::data

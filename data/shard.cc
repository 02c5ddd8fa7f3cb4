#include "data/shard.h"

#include <xxhash.h>

#include <cstring>
#include <string>

#include "absl/strings/str_format.h"
#include "core/status.h"

namespace tune::data {
namespace {

constexpr uint32_t kHeaderSize = 64;

uint64_t Padded8(uint64_t n) { return (n + 7) & ~uint64_t{7}; }

template <typename T>
void Put(std::string& buf, size_t offset, T value) {
  std::memcpy(buf.data() + offset, &value, sizeof(T));
}
template <typename T>
T Get(const uint8_t* p) {
  T v;
  std::memcpy(&v, p, sizeof(T));
  return v;
}

}  // namespace

ShardWriter::ShardWriter(core::AtomicFileWriter file, uint32_t vocab_size)
    : file_(std::move(file)),
      vocab_size_(vocab_size),
      checksum_(XXH64_createState(), &XXH64_freeState) {
  XXH64_reset(checksum_.get(), 0);
  boundaries_.push_back(0);
}

absl::StatusOr<ShardWriter> ShardWriter::Create(const std::filesystem::path& path,
                                                uint32_t vocab_size) {
  TUNE_ASSIGN_OR_RETURN(core::AtomicFileWriter file, core::AtomicFileWriter::Open(path));
  // The header is filled in by Finish(), when the counts and the checksum are known.
  TUNE_RETURN_IF_ERROR(file.Append(std::string(kHeaderSize, '\0')));
  return ShardWriter(std::move(file), vocab_size);
}

absl::Status ShardWriter::AppendPayload(std::string_view bytes) {
  XXH64_update(checksum_.get(), bytes.data(), bytes.size());
  return file_.Append(bytes);
}

absl::Status ShardWriter::AddDocument(std::span<const int32_t> tokens,
                                      std::span<const uint8_t> loss_mask) {
  if (tokens.size() != loss_mask.size()) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "shard document has %d tokens but %d loss-mask entries", tokens.size(), loss_mask.size()));
  }
  for (int32_t t : tokens) {
    if (t < 0 || static_cast<uint32_t>(t) >= vocab_size_) {
      return absl::InvalidArgumentError(
          absl::StrFormat("token id %d is outside the vocabulary [0, %d)", t, vocab_size_));
    }
  }
  TUNE_RETURN_IF_ERROR(AppendPayload(
      {reinterpret_cast<const char*>(tokens.data()), tokens.size() * sizeof(int32_t)}));
  mask_.insert(mask_.end(), loss_mask.begin(), loss_mask.end());
  boundaries_.push_back(mask_.size());
  return absl::OkStatus();
}

absl::StatusOr<uint64_t> ShardWriter::Finish() {
  const uint64_t n = mask_.size();
  const uint64_t mask_end = kHeaderSize + n * 4 + n;
  TUNE_RETURN_IF_ERROR(AppendPayload({reinterpret_cast<const char*>(mask_.data()), n}));
  TUNE_RETURN_IF_ERROR(AppendPayload(std::string(Padded8(mask_end) - mask_end, '\0')));
  TUNE_RETURN_IF_ERROR(AppendPayload({reinterpret_cast<const char*>(boundaries_.data()),
                                      boundaries_.size() * sizeof(uint64_t)}));
  const uint64_t checksum = XXH64_digest(checksum_.get());
  std::string header(kHeaderSize, '\0');
  std::memcpy(header.data(), kShardMagic, 8);
  Put<uint32_t>(header, 8, kShardFormatVersion);
  Put<uint32_t>(header, 12, kHeaderSize);
  Put<uint64_t>(header, 16, n);
  Put<uint64_t>(header, 24, num_documents());
  Put<uint64_t>(header, 32, checksum);
  Put<uint32_t>(header, 40, vocab_size_);
  TUNE_RETURN_IF_ERROR(file_.WriteAt(0, header));
  TUNE_RETURN_IF_ERROR(file_.Commit());
  return checksum;
}

absl::StatusOr<ShardReader> ShardReader::Open(const std::filesystem::path& path) {
  TUNE_ASSIGN_OR_RETURN(core::MappedFile file, core::MappedFile::Open(path));
  auto corrupt = [&](std::string_view what) {
    return absl::DataLossError(absl::StrFormat(
        "shard '%s' is corrupt: %s; hint: re-run `tune ingest` to rebuild the dataset",
        path.string(), what));
  };
  const uint8_t* p = file.data();
  size_t size = file.size();
  if (size < kHeaderSize || std::memcmp(p, kShardMagic, 8) != 0) {
    return corrupt("missing TUNESHRD magic");
  }
  uint32_t version = Get<uint32_t>(p + 8);
  if (version != kShardFormatVersion) {
    return absl::FailedPreconditionError(absl::StrFormat(
        "shard '%s' has format version %d, this build reads %d; hint: re-run `tune ingest`",
        path.string(), version, kShardFormatVersion));
  }
  if (Get<uint32_t>(p + 12) != kHeaderSize) return corrupt("bad header size");
  uint64_t n = Get<uint64_t>(p + 16);
  uint64_t docs = Get<uint64_t>(p + 24);
  if (n > size / 5 || docs > size / 8)
    return corrupt("token or document count larger than the file");
  uint64_t mask_offset = kHeaderSize + n * 4;
  uint64_t bounds_offset = Padded8(mask_offset + n);
  if (bounds_offset + (docs + 1) * 8 != size) {
    return corrupt(absl::StrFormat("file is %d bytes, header implies %d", size,
                                   bounds_offset + (docs + 1) * 8));
  }
  uint64_t checksum = Get<uint64_t>(p + 32);
  if (XXH64(p + kHeaderSize, size - kHeaderSize, 0) != checksum)
    return corrupt("checksum mismatch");
  ShardReader reader(std::move(file));
  p = reader.file_.data();
  reader.vocab_size_ = Get<uint32_t>(p + 40);
  reader.checksum_ = checksum;
  // The header and each section start 8-aligned in a page-aligned map, so these casts are aligned.
  reader.tokens_ = {reinterpret_cast<const int32_t*>(p + kHeaderSize), n};
  reader.mask_ = {p + mask_offset, n};
  reader.boundaries_ = {reinterpret_cast<const uint64_t*>(p + bounds_offset), docs + 1};
  if (reader.boundaries_.front() != 0 || reader.boundaries_.back() != n) {
    return corrupt("document boundaries do not span the tokens");
  }
  for (size_t i = 1; i < reader.boundaries_.size(); ++i) {
    if (reader.boundaries_[i] < reader.boundaries_[i - 1]) return corrupt("boundaries decrease");
  }
  for (int32_t t : reader.tokens_) {
    if (t < 0 || static_cast<uint32_t>(t) >= reader.vocab_size_) {
      return corrupt(
          absl::StrFormat("token id %d outside the vocabulary [0, %d)", t, reader.vocab_size_));
    }
  }
  for (uint8_t m : reader.mask_) {
    if (m > 1) return corrupt("loss mask entry other than 0 or 1");
  }
  return reader;
}

}  // namespace tune::data

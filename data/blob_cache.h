// Per-blob results of the expensive stages (content filter verdict, secret ranges, MinHash),
// kept in the dataset directory so that a re-run re-mines only blobs it has not seen. Entries
// are keyed by blob id + path (the language comes from the path); the whole cache is valid only
// for one fingerprint of filter/dedup config, secret rules and pipeline version.
//
// File format (little-endian, version 1): "TUNECACH", u32 version, u32 fingerprint length +
// bytes, u64 entry count, entries (u32-length-prefixed key, u8 reason, u32-prefixed language,
// u32 count + {u32 begin, u32 end, u16 rule} redactions, u32 count + u32 MinHash values),
// then XXH64 of everything before it.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "data/dedup.h"
#include "data/filters.h"
#include "data/secrets.h"

namespace tune::data {

inline constexpr uint32_t kBlobCacheVersion = 1;

struct BlobRecord {
  DropReason reason = DropReason::kKept;  // content verdict (path rules are not cached)
  std::string language;
  std::vector<Redaction> redactions;
  MinHashSignature signature;
};

class BlobCache {
 public:
  explicit BlobCache(std::string fingerprint) : fingerprint_(std::move(fingerprint)) {}

  // Loads `path`. NotFound if absent, FailedPrecondition if it was written under another
  // fingerprint, DataLoss if corrupt; callers then start from an empty cache.
  static absl::StatusOr<BlobCache> Load(const std::filesystem::path& path,
                                        std::string_view fingerprint);
  absl::Status Save(const std::filesystem::path& path) const;

  const BlobRecord* Find(std::string_view blob_id, std::string_view path) const;
  void Put(std::string_view blob_id, std::string_view path, BlobRecord record);
  size_t size() const { return entries_.size(); }

 private:
  static std::string Key(std::string_view blob_id, std::string_view path);
  std::string fingerprint_;
  absl::flat_hash_map<std::string, BlobRecord> entries_;
};

}  // namespace tune::data

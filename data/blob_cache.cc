#include "data/blob_cache.h"

#include <xxhash.h>

#include <algorithm>
#include <cstring>

#include "absl/strings/str_format.h"
#include "core/file.h"
#include "core/status.h"

namespace tune::data {
namespace {

constexpr char kMagic[8] = {'T', 'U', 'N', 'E', 'C', 'A', 'C', 'H'};

template <typename T>
void Append(std::string& out, T v) {
  out.append(reinterpret_cast<const char*>(&v), sizeof(T));
}
void PutString(std::string& out, std::string_view s) {
  Append<uint32_t>(out, static_cast<uint32_t>(s.size()));
  out.append(s);
}

// Bounds-checked reader over the file bytes.
class Cursor {
 public:
  explicit Cursor(std::string_view data) : data_(data) {}
  template <typename T>
  bool Get(T& v) {
    if (data_.size() - pos_ < sizeof(T)) return false;
    std::memcpy(&v, data_.data() + pos_, sizeof(T));
    pos_ += sizeof(T);
    return true;
  }
  bool GetString(std::string& s) {
    uint32_t n;
    if (!Get(n) || data_.size() - pos_ < n) return false;
    s.assign(data_.substr(pos_, n));
    pos_ += n;
    return true;
  }
  bool done() const { return pos_ == data_.size(); }

 private:
  std::string_view data_;
  size_t pos_ = 0;
};

}  // namespace

std::string BlobCache::Key(std::string_view blob_id, std::string_view path) {
  return absl::StrFormat("%s:%s", blob_id, path);
}

const BlobRecord* BlobCache::Find(std::string_view blob_id, std::string_view path) const {
  auto it = entries_.find(Key(blob_id, path));
  return it == entries_.end() ? nullptr : &it->second;
}

void BlobCache::Put(std::string_view blob_id, std::string_view path, BlobRecord record) {
  entries_.insert_or_assign(Key(blob_id, path), std::move(record));
}

absl::Status BlobCache::Save(const std::filesystem::path& path) const {
  std::string out(kMagic, 8);
  Append<uint32_t>(out, kBlobCacheVersion);
  PutString(out, fingerprint_);
  Append<uint64_t>(out, entries_.size());
  // Sorted keys: the file is byte-identical for identical contents.
  std::vector<const std::pair<const std::string, BlobRecord>*> sorted;
  for (const auto& e : entries_) sorted.push_back(&e);
  std::sort(sorted.begin(), sorted.end(), [](auto* a, auto* b) { return a->first < b->first; });
  for (const auto* e : sorted) {
    const BlobRecord& r = e->second;
    PutString(out, e->first);
    Append<uint8_t>(out, static_cast<uint8_t>(r.reason));
    PutString(out, r.language);
    Append<uint32_t>(out, static_cast<uint32_t>(r.redactions.size()));
    for (const Redaction& x : r.redactions) {
      Append<uint32_t>(out, x.begin);
      Append<uint32_t>(out, x.end);
      Append<uint16_t>(out, x.rule);
    }
    Append<uint32_t>(out, static_cast<uint32_t>(r.signature.size()));
    out.append(reinterpret_cast<const char*>(r.signature.data()), r.signature.size() * 4);
  }
  Append<uint64_t>(out, XXH64(out.data(), out.size(), 0));
  return core::WriteFileAtomic(path, out);
}

absl::StatusOr<BlobCache> BlobCache::Load(const std::filesystem::path& path,
                                          std::string_view fingerprint) {
  TUNE_ASSIGN_OR_RETURN(std::string bytes, core::ReadFile(path));
  auto corrupt = [&](std::string_view what) {
    return absl::DataLossError(
        absl::StrFormat("blob cache '%s' is corrupt: %s", path.string(), what));
  };
  if (bytes.size() < 8 + 4 + 8 || std::memcmp(bytes.data(), kMagic, 8) != 0) {
    return corrupt("missing TUNECACH magic");
  }
  uint64_t stored;
  std::memcpy(&stored, bytes.data() + bytes.size() - 8, 8);
  std::string_view body(bytes.data(), bytes.size() - 8);
  if (XXH64(body.data(), body.size(), 0) != stored) return corrupt("checksum mismatch");
  Cursor c(body.substr(8));
  uint32_t version;
  std::string stored_fingerprint;
  uint64_t count;
  if (!c.Get(version) || !c.GetString(stored_fingerprint) || !c.Get(count)) {
    return corrupt("truncated header");
  }
  if (version != kBlobCacheVersion || stored_fingerprint != fingerprint) {
    return absl::FailedPreconditionError(absl::StrFormat(
        "blob cache '%s' was written by another config, rule set or version", path.string()));
  }
  BlobCache cache{std::string(fingerprint)};
  for (uint64_t i = 0; i < count; ++i) {
    std::string key;
    BlobRecord r;
    uint8_t reason;
    uint32_t n;
    if (!c.GetString(key) || !c.Get(reason) || !c.GetString(r.language) || !c.Get(n)) {
      return corrupt("truncated entry");
    }
    if (reason >= static_cast<uint8_t>(DropReason::kCount)) return corrupt("bad drop reason");
    r.reason = static_cast<DropReason>(reason);
    r.redactions.resize(n);
    for (Redaction& x : r.redactions) {
      if (!c.Get(x.begin) || !c.Get(x.end) || !c.Get(x.rule)) return corrupt("truncated entry");
      if (x.rule >= SecretRuleIds().size() || x.begin > x.end) return corrupt("bad redaction");
    }
    if (!c.Get(n)) return corrupt("truncated entry");
    r.signature.resize(n);
    for (uint32_t& v : r.signature) {
      if (!c.Get(v)) return corrupt("truncated entry");
    }
    cache.entries_.emplace(std::move(key), std::move(r));
  }
  if (!c.done()) return corrupt("trailing bytes");
  return cache;
}

}  // namespace tune::data

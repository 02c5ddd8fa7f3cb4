#include "data/dedup.h"

#include <xxhash.h>

#include <algorithm>
#include <limits>
#include <string>

namespace tune::data {
namespace {

// One-permutation hashing with optimal densification (Shrivastava, ICML 2017) instead of one
// hash function per signature slot: a shingle's 64-bit hash picks its slot (high half) and its
// value there (low half), so a shingle costs one update instead of `permutations`. Every slot's
// collision probability between two documents is their Jaccard similarity, as with independent
// permutations, so LSH banding and the threshold carry over unchanged.

bool IsWordChar(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
}

uint64_t Mix64(uint64_t x) {  // splitmix64's finalizer
  x ^= x >> 30;
  x *= 0xbf58476d1ce4e5b9ULL;
  x ^= x >> 27;
  x *= 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}

double EqualFraction(const uint32_t* a, const uint32_t* b, size_t n) {
  size_t equal = 0;
  for (size_t i = 0; i < n; ++i) equal += a[i] == b[i];
  return static_cast<double>(equal) / static_cast<double>(n);
}

uint32_t SlotOf(uint64_t h, uint32_t slots) {
  return static_cast<uint32_t>(((h >> 32) * slots) >> 32);
}

}  // namespace

MinHashSignature ComputeMinHash(const MinHashOptions& options, std::string_view text) {
  // Tokens: maximal runs of [A-Za-z0-9_] (BigCode: re.split("[^A-Za-z_0-9]")), hashed once each;
  // a shingle's hash combines its tokens' hashes in order.
  std::vector<uint64_t> tokens;
  size_t i = 0;
  while (i < text.size()) {
    while (i < text.size() && !IsWordChar(text[i])) ++i;
    size_t start = i;
    while (i < text.size() && IsWordChar(text[i])) ++i;
    if (i > start) tokens.push_back(XXH3_64bits(text.data() + start, i - start));
  }
  auto n = static_cast<size_t>(options.ngram);
  if (tokens.size() < n) return {};
  const auto slots = static_cast<uint32_t>(options.permutations);
  MinHashSignature sig(slots, std::numeric_limits<uint32_t>::max());
  std::vector<bool> filled(slots, false);
  for (size_t t = 0; t + n <= tokens.size(); ++t) {
    uint64_t h = 0;
    for (size_t k = 0; k < n; ++k) h = Mix64(h ^ tokens[t + k]) + k;
    uint32_t slot = SlotOf(h, slots);
    auto value = static_cast<uint32_t>(h);
    filled[slot] = true;
    if (value < sig[slot]) sig[slot] = value;
  }
  // Densification: an empty slot takes the value of the first filled slot along its own fixed
  // probe sequence (the same for every document). Only empty slots are written and only filled
  // ones are read, so this works in place.
  for (uint32_t slot = 0; slot < slots; ++slot) {
    if (filled[slot]) continue;
    for (uint64_t attempt = 1;; ++attempt) {
      uint32_t probe = SlotOf(Mix64((uint64_t{slot} << 32) ^ attempt), slots);
      if (filled[probe]) {
        sig[slot] = sig[probe];
        break;
      }
    }
  }
  return sig;
}

double EstimatedJaccard(const MinHashSignature& a, const MinHashSignature& b) {
  if (a.empty() || a.size() != b.size()) return 0;
  return EqualFraction(a.data(), b.data(), a.size());
}

uint64_t LshIndex::BandKey(const MinHashSignature& signature, int64_t band) const {
  const uint32_t* start = signature.data() + band * options_.rows;
  return XXH3_64bits_withSeed(start, static_cast<size_t>(options_.rows) * sizeof(uint32_t),
                              static_cast<uint64_t>(band));
}

std::optional<uint32_t> LshIndex::Find(const MinHashSignature& signature) const {
  if (signature.empty()) return std::nullopt;
  const size_t slots = signature.size();
  for (int64_t band = 0; band < options_.bands; ++band) {
    auto it = buckets_.find(BandKey(signature, band));
    if (it == buckets_.end()) continue;
    for (uint32_t l = it->second; l != kEnd; l = links_[l].next) {
      const uint32_t d = links_[l].document;
      if (removed_[d]) continue;
      const uint32_t* kept = signatures_.data() + size_t{d} * slots;
      if (EqualFraction(kept, signature.data(), slots) >= options_.threshold) return ids_[d];
    }
  }
  return std::nullopt;
}

void LshIndex::Insert(uint32_t id, const MinHashSignature& signature) {
  if (signature.empty()) return;
  const auto d = static_cast<uint32_t>(ids_.size());
  ids_.push_back(id);
  removed_.push_back(false);
  signatures_.insert(signatures_.end(), signature.begin(), signature.end());
  for (int64_t band = 0; band < options_.bands; ++band) {
    auto [it, inserted] = buckets_.try_emplace(BandKey(signature, band), kEnd);
    links_.push_back({d, it->second});
    it->second = static_cast<uint32_t>(links_.size() - 1);
  }
}

void LshIndex::Remove(uint32_t id) {
  for (size_t d = 0; d < ids_.size(); ++d) {
    if (ids_[d] == id) removed_[d] = true;
  }
}

std::optional<uint32_t> LshIndex::FindOrInsert(uint32_t id, const MinHashSignature& signature) {
  if (std::optional<uint32_t> dup = Find(signature)) return dup;
  Insert(id, signature);
  return std::nullopt;
}

}  // namespace tune::data

// Near-duplicate detection: MinHash signatures over word n-grams + LSH banding (BigCode's
// near_deduplication defaults: 5-grams of tokens split on non-alphanumerics, 256 signature
// slots, 25 bands x 10 rows, Jaccard 0.7; docs shorter than ngram tokens are never duplicates).
// The signature is one-permutation MinHash with optimal densification: each slot collides
// between two documents with probability equal to their Jaccard similarity, like a slot of
// classic 256-permutation MinHash, at the cost of one hash per shingle instead of 256.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>
#include <vector>

#include "absl/container/flat_hash_map.h"

namespace tune::data {

inline constexpr int64_t kMaxMinHashPermutations = 1024;

struct MinHashOptions {
  int64_t ngram = 5;
  int64_t permutations = 256;  // signature slots; <= kMaxMinHashPermutations, >= bands * rows
  int64_t bands = 25;
  int64_t rows = 10;
  double threshold = 0.7;
};

using MinHashSignature = std::vector<uint32_t>;  // empty: too short to compare

// Signature of `text` (`permutations` slots, or empty when it has fewer than `ngram` tokens).
MinHashSignature ComputeMinHash(const MinHashOptions& options, std::string_view text);

// Fraction of equal positions: the MinHash estimate of the Jaccard similarity.
double EstimatedJaccard(const MinHashSignature& a, const MinHashSignature& b);

// Greedy LSH index: documents are offered in a fixed order; one whose estimated Jaccard with an
// earlier kept document (found through a shared band) reaches the threshold is a duplicate.
class LshIndex {
 public:
  explicit LshIndex(const MinHashOptions& options) : options_(options) {}
  // Returns the id of the kept near-duplicate, or nullopt and then keeps `signature` as `id`.
  std::optional<uint32_t> FindOrInsert(uint32_t id, const MinHashSignature& signature);
  // Returns the id of a kept near-duplicate without inserting.
  std::optional<uint32_t> Find(const MinHashSignature& signature) const;
  // Keeps `signature` as `id` unconditionally (empty signatures are ignored).
  void Insert(uint32_t id, const MinHashSignature& signature);
  // Forgets the document kept as `id` (linear in the number of kept documents).
  void Remove(uint32_t id);

 private:
  uint64_t BandKey(const MinHashSignature& signature, int64_t band) const;
  MinHashOptions options_;
  // Buckets are chains through `links_` (no allocation per bucket): band key -> first link.
  struct Link {
    uint32_t document;  // index into ids_
    uint32_t next;      // kEnd terminates
  };
  static constexpr uint32_t kEnd = UINT32_MAX;
  absl::flat_hash_map<uint64_t, uint32_t> buckets_;
  std::vector<Link> links_;
  std::vector<uint32_t> ids_;         // per kept document
  std::vector<bool> removed_;         // per kept document
  std::vector<uint32_t> signatures_;  // kept documents' signatures, back to back
};

}  // namespace tune::data

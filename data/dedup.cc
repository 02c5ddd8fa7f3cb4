#include "data/dedup.h"

#include <xxhash.h>

#include <algorithm>
#include <limits>
#include <random>
#include <string>

namespace tune::data {
namespace {

// Per-permutation hashes h_i(x) = xorshift(a_i * x + b_i mod 2^32), a_i odd, with fixed-seed
// coefficients so signatures are stable across runs (they are cached by blob id). 32-bit lanes
// let the inner loop over permutations vectorise; the xorshift spreads the high bits down.
struct Permutations {
  std::vector<uint32_t> a, b;
};

const Permutations& AllPermutations() {
  static const Permutations perms = [] {
    std::mt19937_64 rng(0x7475'6e65'6d68ULL);  // "tunemh"
    Permutations p;
    for (int64_t i = 0; i < kMaxMinHashPermutations; ++i) {
      p.a.push_back(static_cast<uint32_t>(rng()) | 1u);
      p.b.push_back(static_cast<uint32_t>(rng()));
    }
    return p;
  }();
  return perms;
}

bool IsWordChar(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
}

__attribute__((target_clones("avx2", "default"))) void UpdateSignature(const uint32_t* a,
                                                                       const uint32_t* b,
                                                                       uint32_t* sig, size_t n,
                                                                       const uint32_t* shingles,
                                                                       size_t count) {
  for (size_t s = 0; s < count; ++s) {
    uint32_t x = shingles[s];
    for (size_t i = 0; i < n; ++i) {
      uint32_t v = a[i] * x + b[i];
      v ^= v >> 15;
      sig[i] = v < sig[i] ? v : sig[i];
    }
  }
}

}  // namespace

MinHashSignature ComputeMinHash(const MinHashOptions& options, std::string_view text) {
  // Tokens: maximal runs of [A-Za-z0-9_] (BigCode: re.split("[^A-Za-z_0-9]")).
  std::vector<std::string_view> tokens;
  size_t i = 0;
  while (i < text.size()) {
    while (i < text.size() && !IsWordChar(text[i])) ++i;
    size_t start = i;
    while (i < text.size() && IsWordChar(text[i])) ++i;
    if (i > start) tokens.push_back(text.substr(start, i - start));
  }
  auto n = static_cast<size_t>(options.ngram);
  if (tokens.size() < n) return {};
  // Hash each distinct shingle once.
  std::vector<uint32_t> shingles;
  shingles.reserve(tokens.size() - n + 1);
  std::string shingle;
  for (size_t t = 0; t + n <= tokens.size(); ++t) {
    shingle.clear();
    for (size_t k = 0; k < n; ++k) {
      shingle.append(tokens[t + k]);
      shingle.push_back(' ');
    }
    uint64_t h = XXH3_64bits(shingle.data(), shingle.size());
    shingles.push_back(static_cast<uint32_t>(h ^ (h >> 32)));
  }
  std::sort(shingles.begin(), shingles.end());
  shingles.erase(std::unique(shingles.begin(), shingles.end()), shingles.end());

  const Permutations& perms = AllPermutations();
  MinHashSignature sig(static_cast<size_t>(options.permutations),
                       std::numeric_limits<uint32_t>::max());
  UpdateSignature(perms.a.data(), perms.b.data(), sig.data(), sig.size(), shingles.data(),
                  shingles.size());
  return sig;
}

double EstimatedJaccard(const MinHashSignature& a, const MinHashSignature& b) {
  if (a.empty() || a.size() != b.size()) return 0;
  size_t equal = 0;
  for (size_t i = 0; i < a.size(); ++i) equal += a[i] == b[i];
  return static_cast<double>(equal) / static_cast<double>(a.size());
}

uint64_t LshIndex::BandKey(const MinHashSignature& signature, int64_t band) const {
  const uint32_t* start = signature.data() + band * options_.rows;
  return XXH3_64bits_withSeed(start, static_cast<size_t>(options_.rows) * sizeof(uint32_t),
                              static_cast<uint64_t>(band));
}

std::optional<uint32_t> LshIndex::Find(const MinHashSignature& signature) const {
  if (signature.empty()) return std::nullopt;
  for (int64_t band = 0; band < options_.bands; ++band) {
    auto it = buckets_.find(BandKey(signature, band));
    if (it == buckets_.end()) continue;
    for (uint32_t candidate : it->second) {
      if (EstimatedJaccard(signature, kept_.at(candidate)) >= options_.threshold) return candidate;
    }
  }
  return std::nullopt;
}

void LshIndex::Insert(uint32_t id, const MinHashSignature& signature) {
  if (signature.empty()) return;
  kept_.emplace(id, signature);
  for (int64_t band = 0; band < options_.bands; ++band) {
    buckets_[BandKey(signature, band)].push_back(id);
  }
}

std::optional<uint32_t> LshIndex::FindOrInsert(uint32_t id, const MinHashSignature& signature) {
  if (std::optional<uint32_t> dup = Find(signature)) return dup;
  Insert(id, signature);
  return std::nullopt;
}

}  // namespace tune::data

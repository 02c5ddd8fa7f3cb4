#include "data/dedup.h"

#include <algorithm>
#include <cctype>
#include <limits>
#include <random>
#include <string>

#include <xxhash.h>

namespace tune::data {
namespace {

constexpr uint64_t kMersenne61 = (uint64_t{1} << 61) - 1;

// Universal hashing (a*x + b) mod p with p = 2^61 - 1, as in datasketch, with fixed-seed
// coefficients so signatures are stable across runs (they are cached by blob id).
struct Permutations {
  std::vector<uint64_t> a, b;
};

const Permutations& AllPermutations() {
  static const Permutations perms = [] {
    std::mt19937_64 rng(0x7475'6e65'6d68ULL);  // "tunemh"
    Permutations p;
    for (int64_t i = 0; i < kMaxMinHashPermutations; ++i) {
      p.a.push_back(rng() % (kMersenne61 - 1) + 1);
      p.b.push_back(rng() % kMersenne61);
    }
    return p;
  }();
  return perms;
}

uint64_t MulMod61(uint64_t a, uint64_t x) {
  unsigned __int128 prod = static_cast<unsigned __int128>(a) * x;
  uint64_t lo = static_cast<uint64_t>(prod & kMersenne61);
  uint64_t hi = static_cast<uint64_t>(prod >> 61);
  uint64_t r = lo + hi;
  return r >= kMersenne61 ? r - kMersenne61 : r;
}

}  // namespace

MinHashSignature ComputeMinHash(const MinHashOptions& options, std::string_view text) {
  // Tokens: maximal runs of [A-Za-z0-9_] (BigCode: re.split("[^A-Za-z_0-9]")).
  std::vector<std::string_view> tokens;
  size_t i = 0;
  while (i < text.size()) {
    while (i < text.size() && !(std::isalnum(static_cast<unsigned char>(text[i])) || text[i] == '_')) ++i;
    size_t start = i;
    while (i < text.size() && (std::isalnum(static_cast<unsigned char>(text[i])) || text[i] == '_')) ++i;
    if (i > start) tokens.push_back(text.substr(start, i - start));
  }
  auto n = static_cast<size_t>(options.ngram);
  if (tokens.size() < n) return {};
  // Hash each distinct shingle once.
  std::vector<uint64_t> shingles;
  shingles.reserve(tokens.size() - n + 1);
  std::string shingle;
  for (size_t t = 0; t + n <= tokens.size(); ++t) {
    shingle.clear();
    for (size_t k = 0; k < n; ++k) {
      shingle.append(tokens[t + k]);
      shingle.push_back(' ');
    }
    shingles.push_back(XXH3_64bits(shingle.data(), shingle.size()) & kMersenne61);
  }
  std::sort(shingles.begin(), shingles.end());
  shingles.erase(std::unique(shingles.begin(), shingles.end()), shingles.end());

  const Permutations& perms = AllPermutations();
  MinHashSignature sig(static_cast<size_t>(options.permutations),
                       std::numeric_limits<uint32_t>::max());
  for (size_t p = 0; p < sig.size(); ++p) {
    uint64_t a = perms.a[p], b = perms.b[p];
    uint32_t best = std::numeric_limits<uint32_t>::max();
    for (uint64_t h : shingles) {
      uint64_t v = MulMod61(a, h) + b;
      if (v >= kMersenne61) v -= kMersenne61;
      best = std::min(best, static_cast<uint32_t>(v));
    }
    sig[p] = best;
  }
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

std::optional<uint32_t> LshIndex::FindOrInsert(uint32_t id, const MinHashSignature& signature) {
  if (std::optional<uint32_t> dup = Find(signature)) return dup;
  if (signature.empty()) return std::nullopt;
  kept_.emplace(id, signature);
  for (int64_t band = 0; band < options_.bands; ++band) {
    buckets_[BandKey(signature, band)].push_back(id);
  }
  return std::nullopt;
}

}  // namespace tune::data

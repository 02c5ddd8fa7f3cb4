// The BPE merge loop shared by both families: byte-level BPE merges by rank from `merges`, and
// SentencePiece BPE, whose "merge the adjacent pair whose concatenation has the best score"
// rule is the same loop once every split of every piece is entered with the piece's score rank.
#pragma once

#include <cstdint>
#include <vector>

#include "absl/container/flat_hash_map.h"

namespace tune::tokenizer::internal {

class BpeMerges {
 public:
  // Registers left + right -> merged at `rank` (lower merges first). A pair registered twice
  // keeps its lowest rank.
  void Add(int32_t left, int32_t right, int32_t rank, int32_t merged);
  size_t size() const { return table_.size(); }

  // Merges the token ids in `symbols` in place: repeatedly the adjacent pair of lowest rank,
  // the leftmost one among equal ranks (Hugging Face's and SentencePiece's order).
  void Apply(std::vector<int32_t>& symbols) const;

 private:
  struct Target {
    int32_t rank;
    int32_t merged;
  };
  const Target* Find(int32_t left, int32_t right) const {
    const auto it = table_.find(Key(left, right));
    return it == table_.end() ? nullptr : &it->second;
  }
  static uint64_t Key(int32_t left, int32_t right) {
    return (static_cast<uint64_t>(static_cast<uint32_t>(left)) << 32) |
           static_cast<uint32_t>(right);
  }
  void ApplyShort(std::vector<int32_t>& symbols) const;
  void ApplyLong(std::vector<int32_t>& symbols) const;

  absl::flat_hash_map<uint64_t, Target> table_;
};

}  // namespace tune::tokenizer::internal

// A thread's memo of recently encoded words, so repeated identifiers skip BPE. Each thread has
// its own, so Encode needs no lock.
//
// Two levels: most words (up to 16 bytes, up to 7 ids) live in a direct-mapped table of 32K
// 48-byte slots, 1.5 MB (a lookup is one hash and two 8-byte compares; a collision overwrites).
// Mining the Python standard library with the Qwen3 tokenizer, 8K slots missed 7.6% of words
// and 32K slots 4.5%: each miss costs a BPE run of ~18 merge-table probes, far more than the
// extra cache misses of the larger table (ingest CPU time -5%);
// longer ones (SentencePiece words with their ▁ indentation, many-piece words of small
// vocabularies) in a hash map that is emptied when it reaches its bound.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"

namespace tune::tokenizer::internal {

class WordCache {
 public:
  // The calling thread's cache for tokenizer `owner` (a process-unique instance number); it is
  // emptied when the thread moves to another tokenizer.
  static WordCache& ForThread(uint64_t owner);

  // Appends the ids of `word` to `out` and returns true if cached.
  bool Find(std::string_view word, std::vector<int32_t>& out) const;
  void Insert(std::string_view word, std::span<const int32_t> ids);

 private:
  static constexpr size_t kSlotWordBytes = 16;
  static constexpr size_t kSlotIds = 7;
  static constexpr int kSlotBits = 15;
  static constexpr size_t kMaxLongWords = 1 << 16;

  struct Slot {
    uint64_t key[2];
    int32_t ids[kSlotIds];
    uint8_t length;  // 0: empty
    uint8_t count;
  };
  struct Key {
    uint64_t a, b;
    size_t index;
  };
  static Key MakeKey(std::string_view word);

  uint64_t owner_ = 0;
  std::vector<Slot> slots_;
  absl::flat_hash_map<std::string, std::pair<uint32_t, uint32_t>> long_words_;  // -> ids span
  std::vector<int32_t> long_ids_;
};

}  // namespace tune::tokenizer::internal

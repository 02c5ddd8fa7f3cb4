#include "tokenizer/word_cache.h"

#include <algorithm>
#include <cstring>

namespace tune::tokenizer::internal {

WordCache& WordCache::ForThread(uint64_t owner) {
  thread_local WordCache cache;
  if (cache.owner_ != owner) {
    cache.owner_ = owner;
    cache.slots_.assign(size_t{1} << kSlotBits, Slot{});
    cache.long_words_.clear();
    cache.long_ids_.clear();
  }
  return cache;
}

WordCache::Key WordCache::MakeKey(std::string_view word) {
  uint64_t words[2] = {0, 0};
  std::memcpy(words, word.data(), word.size());
  uint64_t h = (words[0] * 0x9E3779B97F4A7C15ULL) ^
               ((words[1] + word.size()) * 0xC2B2AE3D27D4EB4FULL);
  h ^= h >> 29;
  return {words[0], words[1], static_cast<size_t>(h >> (64 - kSlotBits))};
}

bool WordCache::Find(std::string_view word, std::vector<int32_t>& out) const {
  if (word.size() <= kSlotWordBytes) {
    const Key key = MakeKey(word);
    const Slot& slot = slots_[key.index];
    if (slot.length == word.size() && slot.key[0] == key.a && slot.key[1] == key.b) {
      out.insert(out.end(), slot.ids, slot.ids + slot.count);
      return true;
    }
  }
  if (long_words_.empty()) return false;
  // Abseil's string_view is not std::string_view in this build.
  const auto it = long_words_.find(absl::string_view(word.data(), word.size()));
  if (it == long_words_.end()) return false;
  out.insert(out.end(), long_ids_.begin() + it->second.first,
             long_ids_.begin() + it->second.first + it->second.second);
  return true;
}

void WordCache::Insert(std::string_view word, std::span<const int32_t> ids) {
  if (word.empty()) return;
  if (word.size() <= kSlotWordBytes && ids.size() <= kSlotIds) {
    const Key key = MakeKey(word);
    Slot& slot = slots_[key.index];
    slot.key[0] = key.a, slot.key[1] = key.b;
    slot.length = static_cast<uint8_t>(word.size());
    slot.count = static_cast<uint8_t>(ids.size());
    std::copy(ids.begin(), ids.end(), slot.ids);
    return;
  }
  if (long_words_.size() >= kMaxLongWords) {
    long_words_.clear();
    long_ids_.clear();
  }
  long_words_.emplace(std::string(word), std::pair{static_cast<uint32_t>(long_ids_.size()),
                                                   static_cast<uint32_t>(ids.size())});
  long_ids_.insert(long_ids_.end(), ids.begin(), ids.end());
}

}  // namespace tune::tokenizer::internal

// Finds added / control tokens written in text, as Hugging Face's AddedVocabulary does:
// leftmost match first, the longest token among those starting there.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace tune::tokenizer::internal {

class AddedTokenMatcher {
 public:
  void Add(std::string text, int32_t id);  // empty texts are ignored
  bool empty() const { return count_ == 0; }

  struct Match {
    size_t offset;  // text.size() when there is no further match
    size_t length;
    int32_t id;
  };
  // The first match at or after `from`.
  Match Find(std::string_view text, size_t from) const;

 private:
  struct Entry {
    std::string text;
    int32_t id;
  };
  // Entries by first byte, longest first.
  std::array<std::vector<Entry>, 256> by_first_byte_;
  size_t count_ = 0;
};

}  // namespace tune::tokenizer::internal

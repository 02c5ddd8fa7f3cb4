#include "tokenizer/added_tokens.h"

#include <algorithm>

namespace tune::tokenizer::internal {

void AddedTokenMatcher::Add(std::string text, int32_t id) {
  if (text.empty()) return;
  auto& bucket = by_first_byte_[static_cast<uint8_t>(text[0])];
  bucket.push_back({std::move(text), id});
  std::stable_sort(bucket.begin(), bucket.end(), [](const Entry& a, const Entry& b) {
    return a.text.size() > b.text.size();
  });
  ++count_;
}

AddedTokenMatcher::Match AddedTokenMatcher::Find(std::string_view text, size_t from) const {
  for (size_t pos = from; pos < text.size(); ++pos) {
    for (const Entry& e : by_first_byte_[static_cast<uint8_t>(text[pos])]) {
      if (text.compare(pos, e.text.size(), e.text) == 0) return {pos, e.text.size(), e.id};
    }
  }
  return {text.size(), 0, -1};
}

}  // namespace tune::tokenizer::internal

// What retrieval matches on: identifiers. A text's terms are its identifiers ([A-Za-z_][A-Za-z0-9_]*,
// two characters or more) lowercased, plus the parts of each snake_case or camelCase identifier
// (also two characters or more), so `parseMoney`, `parse_money` and `money` meet.
//
// The query for a cursor is the code around it, as an editor would see it: the last
// kQueryPrefixLines lines of the prefix and the first kQuerySuffixLines lines of the suffix. Training
// (data/fim.cc), `tune serve --index` and `tune eval` all build it with QueryText, so the model is
// trained on the retrieval it is served.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace tune::retrieval {

inline constexpr int kQueryPrefixLines = 20;
inline constexpr int kQuerySuffixLines = 5;

// The identifiers of `text`, in order, with repeats (views into `text`).
std::vector<std::string_view> Identifiers(std::string_view text);

// The terms of `text`, in order, with repeats.
std::vector<std::string> Terms(std::string_view text);

// The last kQueryPrefixLines lines of `prefix` followed by the first kQuerySuffixLines of `suffix`.
std::string QueryText(std::string_view prefix, std::string_view suffix);

}  // namespace tune::retrieval

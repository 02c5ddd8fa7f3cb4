// What retrieval matches on: identifiers. A text's terms are its identifiers ([A-Za-z_][A-Za-z0-9_]*,
// two characters or more) lowercased, plus the parts of each snake_case or camelCase identifier
// (also two characters or more), so `parseMoney`, `parse_money` and `money` meet.

#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace tune::retrieval {

// The identifiers of `text`, in order, with repeats (views into `text`).
std::vector<std::string_view> Identifiers(std::string_view text);

// The terms of `text`, in order, with repeats.
std::vector<std::string> Terms(std::string_view text);

// The last `lines` lines of `text` (the unfinished last line counts as one) / the first `lines`.
std::string_view LastLines(std::string_view text, int lines);
std::string_view FirstLines(std::string_view text, int lines);

}  // namespace tune::retrieval

#include "data/glob.h"

namespace tune::data {
namespace {

// Matches a class starting at pattern[0] == '['; sets `consumed` to the class length.
bool MatchClass(std::string_view pattern, char c, size_t& consumed, bool& ok) {
  size_t i = 1;
  bool negate = i < pattern.size() && (pattern[i] == '!' || pattern[i] == '^');
  if (negate) ++i;
  bool matched = false;
  bool first = true;
  while (i < pattern.size() && (first || pattern[i] != ']')) {
    first = false;
    char lo = pattern[i];
    if (i + 2 < pattern.size() && pattern[i + 1] == '-' && pattern[i + 2] != ']') {
      if (c >= lo && c <= pattern[i + 2]) matched = true;
      i += 3;
    } else {
      if (c == lo) matched = true;
      ++i;
    }
  }
  ok = i < pattern.size();  // an unterminated '[' is a literal
  consumed = i + 1;
  return matched != negate;
}

bool Match(std::string_view p, std::string_view s) {
  while (!p.empty()) {
    if (p.substr(0, 2) == "**") {
      std::string_view rest = p.substr(2);
      // "**/" also matches zero directories.
      if (!rest.empty() && rest[0] == '/' && Match(rest.substr(1), s)) return true;
      for (size_t i = 0; i <= s.size(); ++i) {
        if (Match(rest, s.substr(i))) return true;
      }
      return false;
    }
    if (p[0] == '*') {
      for (size_t i = 0; i <= s.size(); ++i) {
        if (Match(p.substr(1), s.substr(i))) return true;
        if (i < s.size() && s[i] == '/') break;
      }
      return false;
    }
    if (s.empty()) return false;
    if (p[0] == '?') {
      if (s[0] == '/') return false;
    } else if (p[0] == '[') {
      size_t consumed = 0;
      bool ok = false;
      bool matched = MatchClass(p, s[0], consumed, ok);
      if (ok) {
        if (!matched || s[0] == '/') return false;
        p.remove_prefix(consumed);
        s.remove_prefix(1);
        continue;
      }
      if (s[0] != '[') return false;
    } else if (p[0] != s[0]) {
      return false;
    }
    p.remove_prefix(1);
    s.remove_prefix(1);
  }
  return s.empty();
}

}  // namespace

bool GlobMatch(std::string_view pattern, std::string_view path) { return Match(pattern, path); }

bool GitPatternMatch(std::string_view pattern, std::string_view path) {
  bool dir_only = !pattern.empty() && pattern.back() == '/';
  if (dir_only) pattern.remove_suffix(1);
  if (!pattern.empty() && pattern[0] == '/') {
    pattern.remove_prefix(1);
  } else if (pattern.find('/') == std::string_view::npos) {
    // Basename pattern: match any component; a directory match covers everything below it.
    size_t start = 0;
    while (start <= path.size()) {
      size_t end = path.find('/', start);
      if (end == std::string_view::npos) end = path.size();
      bool is_dir = end < path.size();
      if ((is_dir || !dir_only) && Match(pattern, path.substr(start, end - start))) return true;
      start = end + 1;
    }
    return false;
  }
  if (Match(pattern, path)) return !dir_only;
  // An anchored pattern naming a directory covers the files below it.
  for (size_t i = path.find('/'); i != std::string_view::npos; i = path.find('/', i + 1)) {
    if (Match(pattern, path.substr(0, i))) return true;
  }
  return false;
}

}  // namespace tune::data

// Path globs as in .gitignore / .gitattributes: `*` and `?` stay inside one path component,
// `**` spans components, `[abc]` / `[a-z]` / `[!a]` are character classes.
#pragma once

#include <string_view>

namespace tune::data {

// True if `pattern` matches the whole of `path` (both '/'-separated, no leading '/').
bool GlobMatch(std::string_view pattern, std::string_view path);

// Git's rule for one attribute/ignore pattern: a pattern without '/' matches the basename at
// any depth; with a '/' (other than a trailing one) it is anchored at the repository root.
bool GitPatternMatch(std::string_view pattern, std::string_view path);

}  // namespace tune::data

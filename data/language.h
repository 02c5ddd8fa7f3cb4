// Language of a file from its extension / well-known name, else from a `#!` shebang.
#pragma once

#include <cstddef>
#include <string_view>

namespace tune::data {

enum class LanguageKind {
  kCode,   // source code: all line filters apply
  kProse,  // markdown, text, rst, html: long lines allowed (StarCoder2 exemption)
  kData,   // json, yaml, toml, xml, csv: kept only when short (data_file filter)
};

struct Language {
  std::string_view name;  // "python", "cpp", ...; empty when unknown
  LanguageKind kind = LanguageKind::kCode;
  bool known() const { return !name.empty(); }
};

// How much of a file's start DetectLanguage needs.
inline constexpr size_t kLanguageHeadBytes = 4096;

// Detects the language of `path` ('/'-separated, as in the tree); `head` is the start of the
// content (a few KB), used for the shebang when the name says nothing and to tell C++ headers
// from C ones (".h").
Language DetectLanguage(std::string_view path, std::string_view head);

}  // namespace tune::data

#include "data/language.h"

#include <algorithm>
#include <array>
#include <cctype>
#include <string>
#include <utility>

namespace tune::data {
namespace {

using K = LanguageKind;
struct Entry {
  std::string_view key;
  std::string_view name;
  LanguageKind kind;
};

constexpr std::array kExtensions = {
    Entry{"py", "python", K::kCode},
    Entry{"pyi", "python", K::kCode},
    Entry{"js", "javascript", K::kCode},
    Entry{"mjs", "javascript", K::kCode},
    Entry{"cjs", "javascript", K::kCode},
    Entry{"jsx", "javascript", K::kCode},
    Entry{"ts", "typescript", K::kCode},
    Entry{"mts", "typescript", K::kCode},
    Entry{"tsx", "typescript", K::kCode},
    Entry{"c", "c", K::kCode},
    Entry{"h", "c", K::kCode},
    Entry{"cc", "cpp", K::kCode},
    Entry{"cpp", "cpp", K::kCode},
    Entry{"cxx", "cpp", K::kCode},
    Entry{"hh", "cpp", K::kCode},
    Entry{"hpp", "cpp", K::kCode},
    Entry{"hxx", "cpp", K::kCode},
    Entry{"inl", "cpp", K::kCode},
    Entry{"cu", "cuda", K::kCode},
    Entry{"cuh", "cuda", K::kCode},
    Entry{"go", "go", K::kCode},
    Entry{"rs", "rust", K::kCode},
    Entry{"java", "java", K::kCode},
    Entry{"kt", "kotlin", K::kCode},
    Entry{"scala", "scala", K::kCode},
    Entry{"cs", "csharp", K::kCode},
    Entry{"rb", "ruby", K::kCode},
    Entry{"php", "php", K::kCode},
    Entry{"swift", "swift", K::kCode},
    Entry{"m", "objective-c", K::kCode},
    Entry{"mm", "objective-c", K::kCode},
    Entry{"lua", "lua", K::kCode},
    Entry{"pl", "perl", K::kCode},
    Entry{"pm", "perl", K::kCode},
    Entry{"sh", "shell", K::kCode},
    Entry{"bash", "shell", K::kCode},
    Entry{"zsh", "shell", K::kCode},
    Entry{"ps1", "powershell", K::kCode},
    Entry{"sql", "sql", K::kCode},
    Entry{"r", "r", K::kCode},
    Entry{"jl", "julia", K::kCode},
    Entry{"hs", "haskell", K::kCode},
    Entry{"ml", "ocaml", K::kCode},
    Entry{"ex", "elixir", K::kCode},
    Entry{"exs", "elixir", K::kCode},
    Entry{"erl", "erlang", K::kCode},
    Entry{"clj", "clojure", K::kCode},
    Entry{"dart", "dart", K::kCode},
    Entry{"vue", "vue", K::kCode},
    Entry{"svelte", "svelte", K::kCode},
    Entry{"css", "css", K::kCode},
    Entry{"scss", "scss", K::kCode},
    Entry{"cmake", "cmake", K::kCode},
    Entry{"mk", "makefile", K::kCode},
    Entry{"proto", "protobuf", K::kCode},
    Entry{"tf", "hcl", K::kCode},
    Entry{"hcl", "hcl", K::kCode},
    Entry{"nix", "nix", K::kCode},
    Entry{"zig", "zig", K::kCode},
    Entry{"f90", "fortran", K::kCode},
    Entry{"md", "markdown", K::kProse},
    Entry{"markdown", "markdown", K::kProse},
    Entry{"rst", "restructuredtext", K::kProse},
    Entry{"txt", "text", K::kProse},
    Entry{"html", "html", K::kProse},
    Entry{"htm", "html", K::kProse},
    Entry{"tex", "tex", K::kProse},
    Entry{"json", "json", K::kData},
    Entry{"yaml", "yaml", K::kData},
    Entry{"yml", "yaml", K::kData},
    Entry{"toml", "toml", K::kData},
    Entry{"xml", "xml", K::kData},
    Entry{"csv", "csv", K::kData},
    Entry{"tsv", "csv", K::kData},
    Entry{"ini", "ini", K::kData},
    Entry{"cfg", "ini", K::kData},
};

constexpr std::array kFileNames = {
    Entry{"Makefile", "makefile", K::kCode},     Entry{"makefile", "makefile", K::kCode},
    Entry{"GNUmakefile", "makefile", K::kCode},  Entry{"CMakeLists.txt", "cmake", K::kCode},
    Entry{"Dockerfile", "dockerfile", K::kCode}, Entry{"BUILD", "starlark", K::kCode},
    Entry{"BUILD.bazel", "starlark", K::kCode},  Entry{"WORKSPACE", "starlark", K::kCode},
    Entry{"Rakefile", "ruby", K::kCode},         Entry{"Gemfile", "ruby", K::kCode},
};

constexpr std::array kInterpreters = {
    Entry{"python", "python", K::kCode}, Entry{"node", "javascript", K::kCode},
    Entry{"bash", "shell", K::kCode},    Entry{"sh", "shell", K::kCode},
    Entry{"zsh", "shell", K::kCode},     Entry{"perl", "perl", K::kCode},
    Entry{"ruby", "ruby", K::kCode},     Entry{"deno", "typescript", K::kCode},
};

template <size_t N>
Language Lookup(const std::array<Entry, N>& table, std::string_view key) {
  for (const Entry& e : table) {
    if (e.key == key) return {e.name, e.kind};
  }
  return {};
}

bool LooksLikeCpp(std::string_view head) {
  for (std::string_view marker : {"namespace ", "class ", "template <", "template<",
                                  "std::", "public:", "private:", "constexpr ", "#include <string>",
                                  "#include <vector>", "#include <memory>"}) {
    if (head.find(marker) != std::string_view::npos) return true;
  }
  return false;
}

Language FromShebang(std::string_view head) {
  if (head.substr(0, 2) != "#!") return {};
  std::string_view line = head.substr(2, head.find('\n') - 2);
  // "#!/usr/bin/env -S python3 -u" -> python3; "#!/bin/bash" -> bash.
  size_t pos = 0;
  std::string_view word;
  while (pos < line.size()) {
    while (pos < line.size() && line[pos] == ' ') ++pos;
    size_t end = line.find(' ', pos);
    if (end == std::string_view::npos) end = line.size();
    word = line.substr(pos, end - pos);
    size_t slash = word.rfind('/');
    if (slash != std::string_view::npos) word = word.substr(slash + 1);
    pos = end;
    if (word != "env" && !word.empty() && word[0] != '-') break;
  }
  // Strip version suffixes: python3.11 -> python.
  while (!word.empty() &&
         (std::isdigit(static_cast<unsigned char>(word.back())) || word.back() == '.')) {
    word.remove_suffix(1);
  }
  return Lookup(kInterpreters, word);
}

}  // namespace

Language DetectLanguage(std::string_view path, std::string_view head) {
  std::string_view base = path.substr(path.rfind('/') + 1);
  if (Language by_name = Lookup(kFileNames, base); by_name.known()) return by_name;
  size_t dot = base.rfind('.');
  if (dot != std::string_view::npos && dot > 0) {
    std::string ext(base.substr(dot + 1));
    std::transform(ext.begin(), ext.end(), ext.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    // ".h" is shared by C and C++; C++-only constructs near the top decide.
    if (ext == "h" && LooksLikeCpp(head)) return {"cpp", K::kCode};
    if (Language by_ext = Lookup(kExtensions, ext); by_ext.known()) return by_ext;
  }
  return FromShebang(head);
}

}  // namespace tune::data

#include "retrieval/terms.h"

#include <cctype>

namespace tune::retrieval {
namespace {

bool IsIdentifierStart(char c) { return std::isalpha(static_cast<unsigned char>(c)) || c == '_'; }
bool IsIdentifierChar(char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '_'; }
bool IsUpper(char c) { return std::isupper(static_cast<unsigned char>(c)) != 0; }
bool IsLower(char c) { return std::islower(static_cast<unsigned char>(c)) != 0; }

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

// The snake_case and camelCase parts of `id` ("parseHTTPRequest" -> parse, http, request).
std::vector<std::string_view> Parts(std::string_view id) {
  std::vector<std::string_view> parts;
  size_t start = 0;
  auto cut = [&](size_t end) {
    if (end > start) parts.push_back(id.substr(start, end - start));
    start = end;
  };
  for (size_t i = 0; i < id.size(); ++i) {
    if (id[i] == '_') {
      cut(i);
      start = i + 1;
    } else if (i > start && IsUpper(id[i]) &&
               (IsLower(id[i - 1]) || (i + 1 < id.size() && IsLower(id[i + 1]) && IsUpper(id[i - 1])))) {
      cut(i);
    }
  }
  cut(id.size());
  return parts;
}

}  // namespace

std::vector<std::string_view> Identifiers(std::string_view text) {
  std::vector<std::string_view> out;
  size_t i = 0;
  while (i < text.size()) {
    if (!IsIdentifierStart(text[i]) || (i > 0 && IsIdentifierChar(text[i - 1]))) {
      ++i;
      continue;
    }
    size_t end = i + 1;
    while (end < text.size() && IsIdentifierChar(text[end])) ++end;
    if (end - i >= 2) out.push_back(text.substr(i, end - i));
    i = end;
  }
  return out;
}

std::vector<std::string> Terms(std::string_view text) {
  std::vector<std::string> out;
  for (std::string_view id : Identifiers(text)) {
    out.push_back(Lower(id));
    std::vector<std::string_view> parts = Parts(id);
    if (parts.size() < 2) continue;
    for (std::string_view part : parts) {
      if (part.size() >= 2) out.push_back(Lower(part));
    }
  }
  return out;
}

std::string_view LastLines(std::string_view text, int lines) {
  size_t begin = text.size();
  for (int seen = 0; begin > 0; --begin) {
    if (text[begin - 1] == '\n' && ++seen >= lines) break;
  }
  return text.substr(begin);
}

std::string_view FirstLines(std::string_view text, int lines) {
  size_t end = 0;
  for (int seen = 0; end < text.size(); ++end) {
    if (text[end] == '\n' && ++seen >= lines) break;
  }
  return text.substr(0, end);
}

}  // namespace tune::retrieval

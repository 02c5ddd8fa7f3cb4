// UTF-8 decoding, the Unicode properties the pre-tokenizer regexes use, and NFC.
//
// Invalid UTF-8 never fails: DecodeUtf8 reports a malformed byte as a one-byte code point
// kInvalidCodepoint, which has no category flags (so the regexes treat it like punctuation) and
// which NFC copies through unchanged. That keeps encode total and decode(encode(x)) == x for any
// byte string on byte-level tokenizers.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace tune::tokenizer::internal {

inline constexpr uint32_t kInvalidCodepoint = 0xFFFFFFFF;

enum CodepointFlags : uint8_t {
  kLetter = 1,      // \p{L}
  kNumber = 2,      // \p{N}
  kWhitespace = 4,  // \s (White_Space)
  kPunctuation = 8, // \p{P}
};

struct DecodedCodepoint {
  uint32_t codepoint;  // kInvalidCodepoint for a malformed byte
  int length;          // bytes consumed, >= 1
};

// Decodes the code point starting at text[pos]; pos < text.size().
inline DecodedCodepoint DecodeUtf8(std::string_view text, size_t pos) {
  const auto b0 = static_cast<uint8_t>(text[pos]);
  if (b0 < 0x80) return {b0, 1};
  int length;
  uint32_t cp;
  uint32_t min;
  if ((b0 & 0xE0) == 0xC0) {
    length = 2, cp = b0 & 0x1F, min = 0x80;
  } else if ((b0 & 0xF0) == 0xE0) {
    length = 3, cp = b0 & 0x0F, min = 0x800;
  } else if ((b0 & 0xF8) == 0xF0) {
    length = 4, cp = b0 & 0x07, min = 0x10000;
  } else {
    return {kInvalidCodepoint, 1};
  }
  if (pos + length > text.size()) return {kInvalidCodepoint, 1};
  for (int i = 1; i < length; ++i) {
    const auto b = static_cast<uint8_t>(text[pos + i]);
    if ((b & 0xC0) != 0x80) return {kInvalidCodepoint, 1};
    cp = (cp << 6) | (b & 0x3F);
  }
  // Overlong forms, surrogates and values past U+10FFFF are malformed too.
  if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return {kInvalidCodepoint, 1};
  return {cp, length};
}

void AppendUtf8(uint32_t codepoint, std::string& out);

// CodepointFlags of a code point above U+007F (0 for kInvalidCodepoint).
uint8_t NonAsciiCategory(uint32_t codepoint);

// CodepointFlags of ASCII: letters, digits, \t \n \v \f \r space as White_Space, and the
// punctuation among the symbols (\p{P}; `$+<=>^`|~` are \p{S}).
inline constexpr auto kAsciiCategories = [] {
  std::array<uint8_t, 128> flags{};
  for (int c = 0; c < 128; ++c) {
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')) flags[c] = kLetter;
    if (c >= '0' && c <= '9') flags[c] = kNumber;
    if ((c >= '\t' && c <= '\r') || c == ' ') flags[c] = kWhitespace;
    if (std::string_view("!\"#%&'()*,-./:;?@[\\]_{}").find(static_cast<char>(c)) !=
        std::string_view::npos) {
      flags[c] = kPunctuation;
    }
  }
  return flags;
}();

// CodepointFlags of a code point (0 for kInvalidCodepoint).
inline uint8_t CodepointCategory(uint32_t codepoint) {
  return codepoint < 128 ? kAsciiCategories[codepoint] : NonAsciiCategory(codepoint);
}

// Canonical composition (NFC). Returns false and leaves `out` untouched when `text` is already
// NFC by the cheap check (every code point below U+0300), which is the common case for code.
bool NormalizeNfc(std::string_view text, std::string& out);

}  // namespace tune::tokenizer::internal

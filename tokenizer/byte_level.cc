#include "tokenizer/byte_level.h"

#include <array>

#include "tokenizer/unicode.h"

namespace tune::tokenizer::internal {
namespace {

struct Alphabet {
  std::array<uint32_t, 256> byte_to_cp{};
  std::array<int16_t, 512> cp_to_byte{};  // every alphabet code point is below U+0200

  Alphabet() {
    cp_to_byte.fill(-1);
    uint32_t extra = 0;
    for (uint32_t b = 0; b < 256; ++b) {
      const bool printable = (b >= '!' && b <= '~') || (b >= 0xA1 && b <= 0xAC) || b >= 0xAE;
      byte_to_cp[b] = printable ? b : 256 + extra++;
      cp_to_byte[byte_to_cp[b]] = static_cast<int16_t>(b);
    }
  }
};

const Alphabet& GetAlphabet() {
  static const Alphabet alphabet;
  return alphabet;
}

}  // namespace

std::string BytesToByteLevel(std::string_view bytes) {
  const Alphabet& a = GetAlphabet();
  std::string out;
  out.reserve(bytes.size() * 2);
  for (char c : bytes) AppendUtf8(a.byte_to_cp[static_cast<uint8_t>(c)], out);
  return out;
}

std::string ByteLevelToBytes(std::string_view text) {
  const Alphabet& a = GetAlphabet();
  std::string out;
  out.reserve(text.size());
  for (size_t pos = 0; pos < text.size();) {
    const DecodedCodepoint d = DecodeUtf8(text, pos);
    if (d.codepoint < a.cp_to_byte.size() && a.cp_to_byte[d.codepoint] >= 0) {
      out.push_back(static_cast<char>(a.cp_to_byte[d.codepoint]));
    } else {
      out.append(text.substr(pos, d.length));
    }
    pos += d.length;
  }
  return out;
}

}  // namespace tune::tokenizer::internal

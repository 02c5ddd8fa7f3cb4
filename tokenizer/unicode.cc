#include "tokenizer/unicode.h"

#include <algorithm>
#include <array>
#include <cstring>
#include <vector>

#include "tokenizer/unicode_tables.h"

namespace tune::tokenizer::internal {
namespace {

constexpr uint32_t kHangulSBase = 0xAC00, kHangulLBase = 0x1100, kHangulVBase = 0x1161,
                   kHangulTBase = 0x11A7;
constexpr uint32_t kHangulLCount = 19, kHangulVCount = 21, kHangulTCount = 28;
constexpr uint32_t kHangulNCount = kHangulVCount * kHangulTCount;
constexpr uint32_t kHangulSCount = kHangulLCount * kHangulNCount;
// Malformed bytes travel through NFC as this tag | byte: never composed, class 0.
constexpr uint32_t kRawByteTag = 0x80000000;

uint8_t CombiningClass(uint32_t cp) {
  if (cp < 0x300 || cp >= kRawByteTag) return 0;
  const auto* it = std::upper_bound(
      kCombiningClassRanges, kCombiningClassRanges + kCombiningClassRangeCount, cp,
      [](uint32_t c, const CombiningClassRange& r) { return c < r.first; });
  if (it == kCombiningClassRanges) return 0;
  --it;
  return cp <= it->last ? it->ccc : 0;
}

void Decompose(uint32_t cp, std::vector<uint32_t>& out) {
  if (cp >= kHangulSBase && cp < kHangulSBase + kHangulSCount) {
    const uint32_t s = cp - kHangulSBase;
    out.push_back(kHangulLBase + s / kHangulNCount);
    out.push_back(kHangulVBase + (s % kHangulNCount) / kHangulTCount);
    if (s % kHangulTCount != 0) out.push_back(kHangulTBase + s % kHangulTCount);
    return;
  }
  const auto* it = std::lower_bound(
      kDecompositions, kDecompositions + kDecompositionCount, cp,
      [](const Decomposition& d, uint32_t c) { return d.codepoint < c; });
  if (it != kDecompositions + kDecompositionCount && it->codepoint == cp) {
    out.insert(out.end(), kDecompositionPool + it->offset,
               kDecompositionPool + it->offset + it->length);
  } else {
    out.push_back(cp);
  }
}

// The primary composite of (first, second), or 0.
uint32_t Compose(uint32_t first, uint32_t second) {
  if (first >= kRawByteTag || second >= kRawByteTag) return 0;
  if (first >= kHangulLBase && first < kHangulLBase + kHangulLCount && second >= kHangulVBase &&
      second < kHangulVBase + kHangulVCount) {
    return kHangulSBase +
           ((first - kHangulLBase) * kHangulVCount + (second - kHangulVBase)) * kHangulTCount;
  }
  if (first >= kHangulSBase && first < kHangulSBase + kHangulSCount &&
      (first - kHangulSBase) % kHangulTCount == 0 && second > kHangulTBase &&
      second < kHangulTBase + kHangulTCount) {
    return first + (second - kHangulTBase);
  }
  const uint64_t key = (static_cast<uint64_t>(first) << 21) | second;
  const auto* it = std::lower_bound(
      kCompositions, kCompositions + kCompositionCount, key,
      [](const Composition& c, uint64_t k) { return c.pair < k; });
  return (it != kCompositions + kCompositionCount && it->pair == key) ? it->composite : 0;
}

}  // namespace

void AppendUtf8(uint32_t cp, std::string& out) {
  if (cp < 0x80) {
    out.push_back(static_cast<char>(cp));
  } else if (cp < 0x800) {
    out.push_back(static_cast<char>(0xC0 | (cp >> 6)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else if (cp < 0x10000) {
    out.push_back(static_cast<char>(0xE0 | (cp >> 12)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else {
    out.push_back(static_cast<char>(0xF0 | (cp >> 18)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  }
}

uint8_t NonAsciiCategory(uint32_t cp) {
  if (cp == kInvalidCodepoint) return 0;
  const auto* it = std::upper_bound(
      kCategoryRanges, kCategoryRanges + kCategoryRangeCount, cp,
      [](uint32_t c, const CategoryRange& r) { return c < r.start; });
  return (it - 1)->flags;
}

// Whether `text` has a code point of U+0300 or above (a byte >= 0xCC), checked 8 bytes at a
// time over the ASCII runs that make up most code.
bool HasCodepointFrom0300(std::string_view text) {
  size_t i = 0;
  for (; i + 8 <= text.size(); i += 8) {
    uint64_t w;
    std::memcpy(&w, text.data() + i, 8);
    if ((w & 0x8080808080808080ULL) == 0) continue;
    for (size_t j = i; j < i + 8; ++j) {
      if (static_cast<uint8_t>(text[j]) >= 0xCC) return true;
    }
  }
  for (; i < text.size(); ++i) {
    if (static_cast<uint8_t>(text[i]) >= 0xCC) return true;
  }
  return false;
}

bool NormalizeNfc(std::string_view text, std::string& out) {
  // Every code point below U+0300 is NFC-stable with class 0.
  if (!HasCodepointFrom0300(text)) return false;
  std::vector<uint32_t> decomposed;
  decomposed.reserve(text.size());
  for (size_t pos = 0; pos < text.size();) {
    const DecodedCodepoint d = DecodeUtf8(text, pos);
    if (d.codepoint == kInvalidCodepoint) {
      decomposed.push_back(kRawByteTag | static_cast<uint8_t>(text[pos]));
    } else {
      Decompose(d.codepoint, decomposed);
    }
    pos += d.length;
  }
  // Canonical ordering: stable sort of each run of non-starters by combining class.
  for (size_t i = 1; i < decomposed.size(); ++i) {
    const uint8_t cc = CombiningClass(decomposed[i]);
    if (cc == 0) continue;
    for (size_t j = i; j > 0; --j) {
      const uint8_t prev = CombiningClass(decomposed[j - 1]);
      if (prev == 0 || prev <= cc) break;
      std::swap(decomposed[j - 1], decomposed[j]);
    }
  }
  // Canonical composition (UAX #15): a mark composes with the last starter unless blocked.
  std::vector<uint32_t> composed;
  composed.reserve(decomposed.size());
  ptrdiff_t starter = -1;
  int last_cc = -1;  // class of the last code point kept after the starter, -1 if none
  for (uint32_t cp : decomposed) {
    const int cc = CombiningClass(cp);
    if (starter >= 0 && !(last_cc != -1 && (last_cc == 0 || last_cc >= cc))) {
      if (uint32_t c = Compose(composed[starter], cp); c != 0) {
        composed[starter] = c;
        continue;
      }
    }
    if (cc == 0) {
      starter = static_cast<ptrdiff_t>(composed.size());
      last_cc = -1;
    } else {
      last_cc = cc;
    }
    composed.push_back(cp);
  }
  out.clear();
  for (uint32_t cp : composed) {
    if (cp >= kRawByteTag) {
      out.push_back(static_cast<char>(cp & 0xFF));
    } else {
      AppendUtf8(cp, out);
    }
  }
  return true;
}

}  // namespace tune::tokenizer::internal

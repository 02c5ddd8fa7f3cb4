#include "tokenizer/pretokenizer.h"

#include <algorithm>
#include <array>

#include "tokenizer/unicode.h"

namespace tune::tokenizer::internal {
namespace {

constexpr std::string_view kQwen2Regex =
    R"((?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+)";
constexpr std::string_view kLlama3Regex =
    R"((?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+)";

// DeepSeek-Coder's Split regexes, in order.
constexpr std::array<std::string_view, 5> kDeepseekCoderRegexes = {
    R"([\r\n])", R"(\s?\p{L}+)", R"(\s?\p{P}+)",
    "[\u4E00-\u9FA5\u0800-\u4E00\uAC00-\uD7FF]+", R"(\p{N})"};

constexpr uint8_t kLetterOrNumberOrSpace = kLetter | kNumber | kWhitespace;

// The decoded code points of one text, with byte offsets (offsets[n] == text size).
struct Codepoints {
  std::vector<uint32_t> cps;
  std::vector<uint8_t> flags;
  std::vector<uint32_t> offsets;

  void Decode(std::string_view text) {
    cps.resize(text.size());
    flags.resize(text.size());
    offsets.resize(text.size() + 1);
    size_t n = 0;
    for (size_t pos = 0; pos < text.size(); ++n) {
      offsets[n] = static_cast<uint32_t>(pos);
      const auto byte = static_cast<uint8_t>(text[pos]);
      if (byte < 0x80) {
        cps[n] = byte;
        flags[n] = kAsciiCategories[byte];
        ++pos;
        continue;
      }
      const DecodedCodepoint d = DecodeUtf8(text, pos);
      cps[n] = d.codepoint;
      flags[n] = NonAsciiCategory(d.codepoint);
      pos += d.length;
    }
    offsets[n] = static_cast<uint32_t>(text.size());
    cps.resize(n);
    flags.resize(n);
    offsets.resize(n + 1);
  }
};

uint32_t AsciiLower(uint32_t c) { return (c >= 'A' && c <= 'Z') ? c + 32 : c; }

// Scans code points [begin, end) and reports each match's end index to `emit`.
class Scanner {
 public:
  Scanner(const Codepoints& t, size_t begin, size_t end, std::vector<Piece>& pieces)
      : t_(t), end_(end), prev_end_(begin), pieces_(pieces) {}

  // Length of a contraction at pos ('s 't 're 've 'm 'll 'd), 0 if none.
  size_t Contraction(size_t pos, bool ignore_case) const {
    if (Cp(pos) != '\'') return 0;
    auto lower = [&](size_t p) { return ignore_case ? AsciiLower(Cp(p)) : Cp(p); };
    const uint32_t a = lower(pos + 1);
    if (a == 's' || a == 't' || a == 'm' || a == 'd') return 2;
    const uint32_t b = lower(pos + 2);
    if ((a == 'r' && b == 'e') || (a == 'v' && b == 'e') || (a == 'l' && b == 'l')) return 3;
    return 0;
  }

  // Number of whitespace code points from pos, and the index after the last \r or \n among them
  // (0 if none).
  void Whitespace(size_t pos, size_t& count, size_t& after_newline) const {
    count = 0, after_newline = 0;
    while (Flags(pos + count) & kWhitespace) {
      const uint32_t c = Cp(pos + count);
      ++count;
      if (c == '\r' || c == '\n') after_newline = pos + count;
    }
  }

  // The Qwen2 / Llama-3 regex; max_digits is the {1,n} bound of the \p{N} alternative.
  void Llama3Style(size_t max_digits) {
    for (size_t pos = prev_end_; pos < end_;) {
      const uint32_t cp = Cp(pos);
      const uint8_t flags = Flags(pos);
      if (size_t n = Contraction(pos, /*ignore_case=*/true); n != 0) {
        pos = Emit(pos + n);
        continue;
      }
      // [^\r\n\p{L}\p{N}]?\p{L}+
      if (!(cp == '\r' || cp == '\n' || (flags & kNumber)) &&
          ((flags & kLetter) || (Flags(pos + 1) & kLetter))) {
        ++pos;
        while (Flags(pos) & kLetter) ++pos;
        pos = Emit(pos);
        continue;
      }
      // \p{N}{1,max_digits}
      if (flags & kNumber) {
        size_t n = 0;
        while (n < max_digits && (Flags(pos + n) & kNumber)) ++n;
        pos = Emit(pos + n);
        continue;
      }
      // ' ?[^\s\p{L}\p{N}]+[\r\n]*'
      const size_t sym = pos + (cp == ' ' ? 1 : 0);
      if (sym < end_ && !(Flags(sym) & kLetterOrNumberOrSpace)) {
        pos = sym;
        while (pos < end_ && !(Flags(pos) & kLetterOrNumberOrSpace)) ++pos;
        while (Cp(pos) == '\r' || Cp(pos) == '\n') ++pos;
        pos = Emit(pos);
        continue;
      }
      pos = WhitespaceAlternatives(pos, /*newline_alternative=*/true);
    }
  }

  // The GPT-2 regex.
  void Gpt2Style() {
    for (size_t pos = prev_end_; pos < end_;) {
      if (size_t n = Contraction(pos, /*ignore_case=*/false); n != 0) {
        pos = Emit(pos + n);
        continue;
      }
      const size_t next = pos + (Cp(pos) == ' ' ? 1 : 0);
      const uint8_t flags = next < end_ ? Flags(next) : 0;
      if (next < end_ && (flags & (kLetter | kNumber))) {  // ' ?\p{L}+' or ' ?\p{N}+'
        const uint8_t kind = flags & kLetter ? kLetter : kNumber;
        pos = next;
        while (Flags(pos) & kind) ++pos;
        pos = Emit(pos);
        continue;
      }
      if (next < end_ && !(flags & kWhitespace)) {  // ' ?[^\s\p{L}\p{N}]+'
        pos = next;
        while (pos < end_ && !(Flags(pos) & kLetterOrNumberOrSpace)) ++pos;
        pos = Emit(pos);
        continue;
      }
      pos = WhitespaceAlternatives(pos, /*newline_alternative=*/false);
    }
  }

 private:
  uint32_t Cp(size_t pos) const { return pos < end_ ? t_.cps[pos] : kInvalidCodepoint; }
  uint8_t Flags(size_t pos) const { return pos < end_ ? t_.flags[pos] : 0; }

  // \s*[\r\n]+ (when newline_alternative) | \s+(?!\S) | \s+ | any single code point.
  size_t WhitespaceAlternatives(size_t pos, bool newline_alternative) {
    size_t count, after_newline;
    Whitespace(pos, count, after_newline);
    if (newline_alternative && after_newline > 0) return Emit(after_newline);
    if (count > 1 && pos + count < end_) return Emit(pos + count - 1);
    if (count > 0) return Emit(pos + count);
    return Emit(pos + 1);
  }

  size_t Emit(size_t end) {
    const uint32_t from = t_.offsets[prev_end_];
    pieces_.push_back({from, t_.offsets[end] - from});
    prev_end_ = end;
    return end;
  }

  const Codepoints& t_;
  size_t end_;
  size_t prev_end_;
  std::vector<Piece>& pieces_;
};

// DeepSeek-Coder: each regex splits every piece the previous one left, its matches isolated.
void DeepseekCoderSplit(const Codepoints& t, std::vector<Piece>& pieces) {
  const size_t n = t.cps.size();
  auto flags = [&](size_t pos, size_t end) -> uint8_t { return pos < end ? t.flags[pos] : 0; };
  // Each returns the match length at pos (0: none) within [pos, end).
  auto newline = [&](size_t pos, size_t) -> size_t {
    return t.cps[pos] == '\r' || t.cps[pos] == '\n' ? 1 : 0;
  };
  auto space_then_run = [&](uint8_t kind) {
    return [&, kind](size_t pos, size_t end) -> size_t {
      size_t p = pos + ((flags(pos, end) & kWhitespace) && (flags(pos + 1, end) & kind) ? 1 : 0);
      const size_t start = p;
      while (flags(p, end) & kind) ++p;
      return p > start ? p - pos : 0;
    };
  };
  auto cjk = [&](size_t pos, size_t end) -> size_t {
    size_t p = pos;
    for (; p < end; ++p) {
      const uint32_t c = t.cps[p];
      if (!((c >= 0x0800 && c <= 0x9FA5) || (c >= 0xAC00 && c <= 0xD7FF))) break;
    }
    return p - pos;
  };
  auto number = [&](size_t pos, size_t end) -> size_t { return flags(pos, end) & kNumber ? 1 : 0; };

  std::vector<std::pair<size_t, size_t>> current = {{0, n}}, next;
  auto split = [&](const auto& match) {
    next.clear();
    for (const auto& [begin, end] : current) {
      size_t gap = begin;
      for (size_t pos = begin; pos < end;) {
        const size_t length = match(pos, end);
        if (length == 0) {
          ++pos;
          continue;
        }
        if (pos > gap) next.emplace_back(gap, pos);
        next.emplace_back(pos, pos + length);
        pos += length;
        gap = pos;
      }
      if (gap < end) next.emplace_back(gap, end);
    }
    current.swap(next);
  };
  split(newline);
  split(space_then_run(kLetter));
  split(space_then_run(kPunctuation));
  split(cjk);
  split(number);
  for (const auto& [begin, end] : current) {
    pieces.push_back({t.offsets[begin], t.offsets[end] - t.offsets[begin]});
  }
}

}  // namespace

std::string_view PreTokenizerGgufName(PreTokenizerKind kind) {
  switch (kind) {
    case PreTokenizerKind::kQwen2:
      return "qwen2";
    case PreTokenizerKind::kLlama3:
      return "llama-bpe";
    case PreTokenizerKind::kGpt2:
      return "gpt-2";
    case PreTokenizerKind::kStarcoder:
      return "starcoder";
    case PreTokenizerKind::kDeepseekCoder:
      return "deepseek-coder";
  }
  return "";
}

std::optional<PreTokenizerKind> PreTokenizerFromGgufName(std::string_view name) {
  if (name == "qwen2" || name == "deepseek-r1-qwen") return PreTokenizerKind::kQwen2;
  if (name == "llama-bpe" || name == "llama3" || name == "llama-v3") {
    return PreTokenizerKind::kLlama3;
  }
  if (name == "gpt-2") return PreTokenizerKind::kGpt2;
  if (name == "starcoder") return PreTokenizerKind::kStarcoder;
  if (name == "deepseek-coder") return PreTokenizerKind::kDeepseekCoder;
  return std::nullopt;
}

std::optional<PreTokenizerKind> PreTokenizerFromRegexes(std::vector<std::string> patterns) {
  // A regex may spell CR / LF literally or escaped; compare the escaped form.
  for (std::string& p : patterns) {
    for (size_t i = 0; i < p.size(); ++i) {
      if (p[i] == '\r' || p[i] == '\n') p.replace(i, 1, p[i] == '\r' ? "\\r" : "\\n");
    }
  }
  if (patterns.size() == 1 && patterns[0] == kQwen2Regex) return PreTokenizerKind::kQwen2;
  if (patterns.size() == 1 && patterns[0] == kLlama3Regex) return PreTokenizerKind::kLlama3;
  if (std::equal(patterns.begin(), patterns.end(), kDeepseekCoderRegexes.begin(),
                 kDeepseekCoderRegexes.end())) {
    return PreTokenizerKind::kDeepseekCoder;
  }
  return std::nullopt;
}

void PreTokenizer::Split(std::string_view text, std::vector<Piece>& pieces) const {
  // Per thread, so the decode buffers are allocated once and Split stays const and lock-free.
  thread_local Codepoints t;
  t.Decode(text);
  const size_t n = t.cps.size();
  switch (kind_) {
    case PreTokenizerKind::kQwen2:
      Scanner(t, 0, n, pieces).Llama3Style(1);
      break;
    case PreTokenizerKind::kLlama3:
      Scanner(t, 0, n, pieces).Llama3Style(3);
      break;
    case PreTokenizerKind::kGpt2:
      Scanner(t, 0, n, pieces).Gpt2Style();
      break;
    case PreTokenizerKind::kStarcoder: {
      // Every \p{N} is its own piece; the regex runs on the text between them.
      size_t begin = 0;
      for (size_t i = 0; i <= n; ++i) {
        if (i < n && !(t.flags[i] & kNumber)) continue;
        if (i > begin) Scanner(t, begin, i, pieces).Gpt2Style();
        if (i < n) pieces.push_back({t.offsets[i], t.offsets[i + 1] - t.offsets[i]});
        begin = i + 1;
      }
      break;
    }
    case PreTokenizerKind::kDeepseekCoder:
      DeepseekCoderSplit(t, pieces);
      break;
  }
}

}  // namespace tune::tokenizer::internal

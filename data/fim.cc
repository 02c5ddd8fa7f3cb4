#include "data/fim.h"

#include <algorithm>
#include <utility>

namespace tune::data {
namespace {

// Large files are parsed in a window of whole top-level chunks around a random point: parse time
// is linear in the text, and one middle needs only nearby nodes.
constexpr size_t kParseWindowBytes = 4096;

// [begin, end) of a window of about kParseWindowBytes whose ends are starts of lines that begin
// in column 0 with a non-space character (a top-level definition or statement in every
// supported language), or the text ends.
bool StartsTopLevelLine(char c) {
  return c != ' ' && c != '\t' && c != '\n' && c != '\r' && c != '}' && c != ')';
}

std::pair<size_t, size_t> ParseWindow(std::string_view text, std::mt19937_64& rng) {
  if (text.size() <= 2 * kParseWindowBytes) return {0, text.size()};
  auto top_level_at_or_before = [&](size_t pos) -> size_t {
    while (pos > 0) {
      size_t line = text.rfind('\n', pos - 1);
      size_t start = line == std::string_view::npos ? 0 : line + 1;
      if (start == 0) return 0;
      if (StartsTopLevelLine(text[start])) return start;
      pos = start - 1;
    }
    return 0;
  };
  size_t center = std::uniform_int_distribution<size_t>(0, text.size() - 1)(rng);
  size_t begin =
      top_level_at_or_before(center > kParseWindowBytes / 2 ? center - kParseWindowBytes / 2 : 0);
  size_t end = std::min(text.size(), begin + kParseWindowBytes);
  // Extend to the next top-level line start (or the end of the text).
  while (end < text.size()) {
    size_t line = text.find('\n', end);
    if (line == std::string_view::npos || line + 1 >= text.size()) {
      end = text.size();
      break;
    }
    end = line + 1;
    if (StartsTopLevelLine(text[end])) break;
  }
  return {begin, end};
}

bool IsUtf8Start(std::string_view text, size_t pos) {
  return pos >= text.size() || (static_cast<unsigned char>(text[pos]) & 0xC0) != 0x80;
}

uint32_t SnapToCharStart(std::string_view text, size_t pos) {
  while (!IsUtf8Start(text, pos)) --pos;
  return static_cast<uint32_t>(pos);
}

bool Draw(std::mt19937_64& rng, double p) {
  return std::uniform_real_distribution<double>(0.0, 1.0)(rng) < p;
}

class SampleBuilder {
 public:
  SampleBuilder(const tokenizer::Tokenizer& tok, Sample& sample) : tok_(tok), s_(sample) {}
  void Id(int32_t id, uint8_t mask) {
    s_.tokens.push_back(id);
    s_.loss_mask.push_back(mask);
  }
  void Text(std::string_view text, uint8_t mask) {
    if (text.empty()) return;
    std::vector<int32_t> ids = tok_.Encode(text, /*parse_special=*/false);
    s_.tokens.insert(s_.tokens.end(), ids.begin(), ids.end());
    s_.loss_mask.insert(s_.loss_mask.end(), ids.size(), mask);
  }

 private:
  const tokenizer::Tokenizer& tok_;
  Sample& s_;
};

}  // namespace

MiddleSpan ChooseMiddle(const FimOptions& options, std::string_view language, std::string_view text,
                        std::mt19937_64& rng) {
  if (HasGrammar(language) && Draw(rng, options.structured_rate)) {
    auto [begin, end] = ParseWindow(text, rng);
    auto spans = FindSyntaxSpans(language, text.substr(begin, end - begin),
                                 static_cast<uint32_t>(options.min_middle_bytes),
                                 static_cast<uint32_t>(options.max_middle_bytes));
    // Parse timeouts and files without a node of the allowed size fall back to random cuts.
    if (spans.ok() && !spans->empty()) {
      const SyntaxSpan& s =
          (*spans)[std::uniform_int_distribution<size_t>(0, spans->size() - 1)(rng)];
      return {static_cast<uint32_t>(begin + s.begin), static_cast<uint32_t>(begin + s.end), true,
              s.kind};
    }
  }
  std::uniform_int_distribution<size_t> cut(0, text.size());
  uint32_t a = SnapToCharStart(text, cut(rng)), b = SnapToCharStart(text, cut(rng));
  if (a > b) std::swap(a, b);
  return {a, b, false, SpanKind::kStatement};
}

Sample BuildSample(const tokenizer::Tokenizer& tokenizer, const FimOptions& options,
                   const SampleInput& input, std::mt19937_64& rng) {
  Sample sample;
  SampleBuilder b(tokenizer, sample);
  const tokenizer::FimTokens& fim = tokenizer.fim();
  std::optional<int32_t> eot = fim.eot ? fim.eot : tokenizer.eos_id();

  // Draw everything up front so the random stream does not depend on the vocabulary.
  bool want_fim = Draw(rng, options.fim_rate);
  bool spm = Draw(rng, options.spm_rate);
  bool want_context = Draw(rng, options.repo_context_rate);
  MiddleSpan middle;
  if (want_fim) middle = ChooseMiddle(options, input.language, input.text, rng);

  if (tokenizer.add_bos() && tokenizer.bos_id()) b.Id(*tokenizer.bos_id(), 0);
  if (want_context && fim.repo_name && fim.file_sep) {
    sample.repo_context = true;
    b.Id(*fim.repo_name, 0);
    b.Text(std::string(input.repo_name) + "\n", 0);
    int64_t budget = options.repo_context_bytes;
    for (const Neighbour& n : input.neighbours) {
      int64_t cost = static_cast<int64_t>(n.path.size() + n.text.size() + 2);
      if (cost > budget) continue;
      budget -= cost;
      b.Id(*fim.file_sep, 0);
      b.Text(std::string(n.path) + "\n" + std::string(n.text) + "\n", 0);
    }
    b.Id(*fim.file_sep, 0);
    b.Text(std::string(input.path) + "\n", 0);
  }
  if (want_fim && !fim.available()) sample.fim_unavailable = true;
  if (want_fim && fim.available()) {
    std::string_view prefix = input.text.substr(0, middle.begin);
    std::string_view mid = input.text.substr(middle.begin, middle.end - middle.begin);
    std::string_view suffix = input.text.substr(middle.end);
    sample.middle_begin = middle.begin;
    sample.middle_end = middle.end;
    sample.structured = middle.structured;
    sample.span_kind = middle.kind;
    if (spm) {
      sample.kind = SampleKind::kSpm;
      b.Id(*fim.prefix, 0);
      b.Id(*fim.suffix, 0);
      b.Text(suffix, 1);
      b.Id(*fim.middle, 0);
      b.Text(prefix, 1);
      b.Text(mid, 1);
    } else {
      sample.kind = SampleKind::kPsm;
      b.Id(*fim.prefix, 0);
      b.Text(prefix, 1);
      b.Id(*fim.suffix, 0);
      b.Text(suffix, 1);
      b.Id(*fim.middle, 0);
      b.Text(mid, 1);
    }
  } else {
    b.Text(input.text, 1);
  }
  if (eot) b.Id(*eot, 1);
  return sample;
}

}  // namespace tune::data

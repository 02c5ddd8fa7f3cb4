#include "data/fim.h"

#include <algorithm>
#include <utility>

namespace tune::data {
namespace {

// Large files are parsed in a window of whole top-level chunks around a random point: parse time
// is linear in the text (tree-sitter runs at a few MB/s, the largest cost of ingest once), and
// one middle needs only nearby nodes. The window is twice the largest middle, at least 1 KiB.
constexpr size_t kMinParseWindowBytes = 1024;

// How good a window boundary the line starting at `pos` is: 0 for a line that begins in column
// 0 (a top-level definition or statement in every supported language), 1 for one indented by
// one level (a member of a class or namespace: Java and C# keep everything there), 2 for any
// other line with code, 3 for a blank line or one that closes a bracket (never a boundary).
int BoundaryRank(std::string_view text, size_t pos) {
  size_t indent = 0;
  while (pos + indent < text.size() && (text[pos + indent] == ' ' || text[pos + indent] == '\t'))
    ++indent;
  if (pos + indent >= text.size()) return 3;
  char c = text[pos + indent];
  if (c == '\n' || c == '\r' || c == '}' || c == ')' || c == ']') return 3;
  if (indent == 0) return 0;
  bool one_level = text[pos] == '\t' ? indent == 1 : indent <= 4;
  return one_level ? 1 : 2;
}

// The best-ranked line start in [lo, hi] (the highest or lowest among equals), or npos when
// there is no line with code there.
size_t BestBoundary(std::string_view text, size_t lo, size_t hi, bool prefer_high) {
  size_t pos = lo;
  if (pos > 0 && text[pos - 1] != '\n') {
    pos = text.find('\n', pos);
    if (pos == std::string_view::npos) return pos;
    ++pos;
  }
  size_t best = std::string_view::npos;
  int best_rank = 3;
  while (pos <= hi && pos < text.size()) {
    int rank = BoundaryRank(text, pos);
    if (rank < best_rank || (rank == best_rank && rank < 3 && prefer_high)) {
      best = pos;
      best_rank = rank;
    }
    size_t newline = text.find('\n', pos);
    if (newline == std::string_view::npos) break;
    pos = newline + 1;
  }
  return best;
}

// [begin, end) of a window of about `window` bytes around a random point, whose ends are the
// best-ranked line starts within `window` bytes before the nominal ends (or the ends of the
// text): a window never grows past 2 * window, even when a file is one large class.
std::pair<size_t, size_t> ParseWindow(std::string_view text, size_t window,
                                      std::mt19937_64& rng) {
  if (text.size() <= 2 * window) return {0, text.size()};
  size_t center = std::uniform_int_distribution<size_t>(0, text.size() - 1)(rng);
  size_t nominal_begin = center > window / 2 ? center - window / 2 : 0;
  size_t begin = nominal_begin <= window / 2
                     ? 0
                     : BestBoundary(text, nominal_begin - window / 2, nominal_begin, true);
  if (begin == std::string_view::npos) begin = 0;
  size_t nominal_end = begin + window;
  if (nominal_end + window / 2 >= text.size()) return {begin, text.size()};
  size_t end = BestBoundary(text, nominal_end, nominal_end + window / 2, false);
  return {begin, end == std::string_view::npos ? text.size() : end};
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
    size_t window = std::max(kMinParseWindowBytes, 2 * static_cast<size_t>(options.max_middle_bytes));
    auto [begin, end] = ParseWindow(text, window, rng);
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

std::vector<Neighbour> FitRepoContext(const std::vector<Neighbour>& neighbours,
                                      int64_t budget_bytes) {
  std::vector<Neighbour> fitting;
  for (const Neighbour& n : neighbours) {
    int64_t cost = static_cast<int64_t>(n.path.size() + n.text.size() + 2);
    if (cost > budget_bytes) continue;
    budget_bytes -= cost;
    fitting.push_back(n);
  }
  return fitting;
}

std::vector<Neighbour> RetrievedContext(const FimOptions& options, const SampleInput& input,
                                        const std::vector<Neighbour>& in_context, retrieval::Query query) {
  if (input.index == nullptr || options.retrieval_chunks <= 0) return {};
  query.exclude_path = std::string(input.path);
  query.exclude_heldout = true;
  query.k = static_cast<int>(options.retrieval_chunks);
  query.skip = [&](const retrieval::IndexedFile& file, const retrieval::IndexedChunk&) {
    return std::any_of(in_context.begin(), in_context.end(), [&](const Neighbour& n) { return n.path == file.path; });
  };
  std::vector<Neighbour> best_first;
  for (const retrieval::Hit& hit : input.index->Search(query)) {
    best_first.push_back({input.index->path(hit), input.index->chunk(hit).text});
  }
  std::vector<Neighbour> fitting = FitRepoContext(best_first, options.retrieval_bytes);
  std::reverse(fitting.begin(), fitting.end());
  return fitting;
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
  // Repo context: the Qwen2.5-Coder layout where the family has its tokens; else, for a FIM
  // family, the chunks as snippets before <PRE>, as `tune serve` sends an editor's context.
  const bool repo_tokens = fim.repo_name && fim.file_sep;
  if (want_context && (repo_tokens || fim.available())) {
    if (repo_tokens) {
      b.Id(*fim.repo_name, 0);
      b.Text(std::string(input.repo_name) + "\n", 0);
    }
    std::vector<Neighbour> context = FitRepoContext(input.neighbours, options.repo_context_bytes);
    retrieval::Query query;
    if (want_fim && fim.available()) {
      query = retrieval::CursorQuery(input.text.substr(0, middle.begin), input.text.substr(middle.end));
    } else {
      query.text = std::string(input.text);
    }
    std::vector<Neighbour> retrieved = RetrievedContext(options, input, context, std::move(query));
    sample.retrieved_chunks = static_cast<int32_t>(retrieved.size());
    context.insert(context.end(), retrieved.begin(), retrieved.end());
    sample.repo_context = repo_tokens || !context.empty();
    for (const Neighbour& n : context) {
      if (repo_tokens) {
        b.Id(*fim.file_sep, 0);
        b.Text(std::string(n.path) + "\n" + std::string(n.text) + "\n", 0);
      } else {
        b.Text(std::string(retrieval::kSnippetSeparator) + std::string(n.text), 0);
      }
    }
    if (repo_tokens) {
      b.Id(*fim.file_sep, 0);
      b.Text(std::string(input.path) + "\n", 0);
    }
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

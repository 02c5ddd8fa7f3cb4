// Turns one source file into one training sample of token ids + loss mask: plain left-to-right
// or fill-in-the-middle (PSM / SPM), optionally behind repository-level context.
//
// File text is always encoded with special-token parsing OFF; sentinels are inserted by id, so a
// file that contains "<|fim_prefix|>" cannot produce a control token. Layouts (docs/ingest.md):
//   plain  [BOS] text EOT
//   PSM    [BOS] <PRE> prefix <SUF> suffix <MID> middle EOT
//   SPM    [BOS] <PRE> <SUF> suffix <MID> prefix middle EOT        (SPM variant 2, BigCode)
//   repo   [BOS] <REPO> name\n (<SEP> path\ncontent\n)* (<SEP> path\nchunk\n)* <SEP> path\n {body}
//          families without <REPO>/<SEP>: [BOS] ("\n\n--- snippet ---\n\n" content)* {body}, the
//          layout llama.cpp and `tune serve` give an editor's context for them
// Repo context is first the neighbouring files (nearest first), then the chunks the retrieval
// index (retrieval/index.h) finds for the code around the cursor, least relevant first so that
// the best one sits next to the file, as `tune serve --index` lays them out.
// Loss mask: 1 on the file's own text and EOT; 0 on sentinels, BOS, the repo name, the path
// header and neighbouring files (they are trained as their own samples).
#pragma once

#include <cstdint>
#include <random>
#include <string>
#include <string_view>
#include <vector>

#include "data/syntax_spans.h"
#include "retrieval/index.h"
#include "tokenizer/tokenizer.h"

namespace tune::data {

struct FimOptions {
  double fim_rate = 0.5;          // share of samples that are FIM
  double spm_rate = 0.5;          // share of FIM samples in SPM order
  double structured_rate = 0.9;   // share of FIM middles that are syntax nodes (when parsable)
  int64_t min_middle_bytes = 16;  // syntax-node middle size range (IBM: 50..1000 works well)
  int64_t max_middle_bytes = 1000;
  double repo_context_rate = 0.5;     // share of samples with repository context
  int64_t repo_context_bytes = 8192;  // budget of neighbouring-file text per sample
  int64_t retrieval_chunks = 4;       // retrieved chunks per sample with repo context (0: none)
  int64_t retrieval_bytes = 4096;     // budget of retrieved chunk text per sample
};

enum class SampleKind : uint8_t { kPlain, kPsm, kSpm };

struct Neighbour {
  std::string_view path;
  std::string_view text;
};

struct SampleInput {
  std::string_view path;
  std::string_view text;      // redacted file text
  std::string_view language;  // DetectLanguage name
  std::string_view repo_name;
  std::vector<Neighbour> neighbours;  // candidates for repo context, nearest first
  // Searched for chunks of other, training-split files (never this file, never held-out ones).
  const retrieval::Index* index = nullptr;
};

struct Sample {
  std::vector<int32_t> tokens;
  std::vector<uint8_t> loss_mask;
  SampleKind kind = SampleKind::kPlain;
  bool structured = false;  // FIM middle is a syntax node
  SpanKind span_kind = SpanKind::kStatement;
  bool repo_context = false;
  int32_t retrieved_chunks = 0;  // of the repo context, chunks found by the retrieval index
  bool fim_unavailable = false;  // FIM was drawn but the vocabulary has no FIM tokens
  uint32_t middle_begin = 0;     // FIM middle as byte offsets into the text
  uint32_t middle_end = 0;
};

// Middle span: a syntax node (with probability structured_rate when the language has a grammar
// and a node of the allowed size exists), else two uniform cut points on UTF-8 boundaries.
struct MiddleSpan {
  uint32_t begin = 0, end = 0;
  bool structured = false;
  SpanKind kind = SpanKind::kStatement;
};
MiddleSpan ChooseMiddle(const FimOptions& options, std::string_view language, std::string_view text,
                        std::mt19937_64& rng);

// The neighbours that go into a sample's repository context: in order, each whole one that still
// fits the remaining `budget_bytes` (path + text + 2 newlines), skipping those that do not.
std::vector<Neighbour> FitRepoContext(const std::vector<Neighbour>& neighbours,
                                      int64_t budget_bytes);

// The chunks of `input.index` for `query`: the best options.retrieval_chunks hits of training
// files other than input.path and the neighbours already in the context, those that fit
// retrieval_bytes, least relevant first. A FIM sample queries with retrieval::CursorQuery of its
// prefix and suffix, as a served request does; a plain sample (no cursor) with its whole text.
std::vector<Neighbour> RetrievedContext(const FimOptions& options, const SampleInput& input,
                                        const std::vector<Neighbour>& in_context, retrieval::Query query);

// Builds the sample. Deterministic for a given rng state.
Sample BuildSample(const tokenizer::Tokenizer& tokenizer, const FimOptions& options,
                   const SampleInput& input, std::mt19937_64& rng);

}  // namespace tune::data

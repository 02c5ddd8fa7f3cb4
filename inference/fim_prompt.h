// The fill-in-the-middle prompt of an `/infill` request, in the layout `tune ingest` trains on
// (data/fim.h), so that what the served model sees matches its training distribution:
//
//   PSM  [BOS] [<REPO> name\n (<SEP> path\ntext\n)* <SEP> file\n] <PRE> prefix <SUF> suffix <MID>
//   SPM  [BOS] [repo context as above]                          <PRE> <SUF> suffix <MID> prefix
//
// prefix = input_prefix + prompt (the typed part of the cursor line), tokenized as one text as in
// training. Families without <REPO>/<SEP> tokens get each extra chunk as plain text behind
// llama.cpp's "\n\n--- snippet ---\n\n" separator. Text is tokenized with special-token parsing
// off: code that spells "<|fim_prefix|>" stays text.
//
// Budgets (llama.cpp's, in tokens): the prefix keeps its last 3/4 * n_batch, the suffix its first
// n_batch/4 - 2; extra chunks get n_ctx - n_batch - 2 * n_predict, newest kept, whole chunks
// only (a cut chunk would start mid-line), exact duplicates once.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "inference/request.h"
#include "inference/vocab.h"

namespace tune::inference {

struct FimLayout {
  std::string repo_name = "myproject";  // llama.cpp's placeholder when the GGUF names no repo
  bool spm = false;
};

struct FimBudget {
  int32_t n_batch = 1024;
  int32_t n_ctx = 4096;   // the slot's context
  int32_t n_predict = 128;
};

struct FimPrompt {
  std::vector<int32_t> tokens;
  bool truncated = false;    // prefix, suffix or extra chunks were cut to fit
  int32_t extra_chunks = 0;  // chunks that made it in
};

// Unimplemented (HTTP 501, as llama.cpp) when the vocabulary has no FIM tokens.
absl::StatusOr<FimPrompt> BuildFimPrompt(const Vocab& vocab, const FimLayout& layout,
                                         const FimBudget& budget, const CompletionRequest& request);

}  // namespace tune::inference

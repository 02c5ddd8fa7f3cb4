#include "inference/fim_prompt.h"

#include <algorithm>
#include <string_view>

#include "absl/container/flat_hash_set.h"
#include "retrieval/index.h"

namespace tune::inference {
namespace {

constexpr std::string_view kDefaultFileName = "filename";  // llama.cpp's, when the client sends none

void Append(std::vector<int32_t>& to, const std::vector<int32_t>& from) {
  to.insert(to.end(), from.begin(), from.end());
}

// The extra chunks as token runs, oldest first, each with its separator; duplicates of a newer
// chunk dropped.
std::vector<std::vector<int32_t>> ChunkTokens(const Vocab& vocab, const FimTokenIds& fim,
                                              const std::vector<ExtraChunk>& extra) {
  absl::flat_hash_set<std::string_view> seen;
  std::vector<std::vector<int32_t>> chunks;
  for (auto it = extra.rbegin(); it != extra.rend(); ++it) {
    if (!seen.insert(it->text).second) continue;
    std::vector<int32_t> tokens;
    if (fim.file_sep) {
      tokens.push_back(*fim.file_sep);
      Append(tokens, vocab.Tokenize(it->filename + "\n" + it->text + "\n", false));
    } else {
      Append(tokens, vocab.Tokenize(std::string(retrieval::kSnippetSeparator) + it->text, false));
    }
    chunks.push_back(std::move(tokens));
  }
  std::reverse(chunks.begin(), chunks.end());
  return chunks;
}

}  // namespace

absl::StatusOr<FimPrompt> BuildFimPrompt(const Vocab& vocab, const FimLayout& layout,
                                         const FimBudget& budget, const CompletionRequest& request) {
  const FimTokenIds fim = vocab.fim();
  if (!fim.available()) {
    return absl::UnimplementedError(
        "infill is not supported by this model: its vocabulary has no FIM prefix/suffix/middle "
        "tokens; hint: serve a code model with FIM training (Qwen2.5-Coder, StarCoder2, "
        "DeepSeek-Coder, CodeLlama) or send a raw prompt to /completion");
  }
  FimPrompt out;
  std::vector<int32_t> prefix = vocab.Tokenize(request.input_prefix + request.prompt_text, false);
  std::vector<int32_t> suffix = vocab.Tokenize(request.input_suffix, false);
  const size_t prefix_take = std::min<size_t>(prefix.size(), 3 * (budget.n_batch / 4));
  const size_t suffix_take =
      std::min<size_t>(suffix.size(), std::max(0, budget.n_batch / 4 - 2));
  out.truncated = prefix_take < prefix.size() || suffix_take < suffix.size();
  prefix.erase(prefix.begin(), prefix.end() - static_cast<ptrdiff_t>(prefix_take));
  suffix.resize(suffix_take);

  // Repository context: header, then the newest chunks that fit, then the current file's header.
  std::vector<int32_t> context;
  const bool repo_layout = fim.repo_name && fim.file_sep;
  if (repo_layout) {
    context.push_back(*fim.repo_name);
    Append(context, vocab.Tokenize(layout.repo_name + "\n", false));
  }
  const bool want_file_header = fim.file_sep && (repo_layout || !request.input_extra.empty());
  std::vector<int32_t> file_header;
  if (want_file_header) {
    file_header.push_back(*fim.file_sep);
    const std::string& name = request.filename.empty() ? std::string(kDefaultFileName) : request.filename;
    Append(file_header, vocab.Tokenize(name + "\n", false));
  }
  std::vector<std::vector<int32_t>> chunks = ChunkTokens(vocab, fim, request.input_extra);
  int64_t extra_budget =
      std::max<int64_t>(0, int64_t{budget.n_ctx} - budget.n_batch - 2 * int64_t{budget.n_predict});
  size_t first_kept = chunks.size();
  while (first_kept > 0 && static_cast<int64_t>(chunks[first_kept - 1].size()) <= extra_budget) {
    --first_kept;
    extra_budget -= static_cast<int64_t>(chunks[first_kept].size());
  }
  if (first_kept > 0) out.truncated = true;
  for (size_t i = first_kept; i < chunks.size(); ++i) Append(context, chunks[i]);
  out.extra_chunks = static_cast<int32_t>(chunks.size() - first_kept);
  Append(context, file_header);

  std::vector<int32_t>& t = out.tokens;
  if (std::optional<int32_t> bos = vocab.bos_to_add()) t.push_back(*bos);
  Append(t, context);
  t.push_back(*fim.prefix);
  if (layout.spm) {
    t.push_back(*fim.suffix);
    Append(t, suffix);
    t.push_back(*fim.middle);
    Append(t, prefix);
  } else {
    Append(t, prefix);
    t.push_back(*fim.suffix);
    Append(t, suffix);
    t.push_back(*fim.middle);
  }
  return out;
}

}  // namespace tune::inference

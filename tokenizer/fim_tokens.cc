// FIM / repo-level token discovery by spelling. Each slot lists every family's spelling; a
// vocabulary has at most one family's, so the first one present wins.
#include <string_view>

#include "absl/container/flat_hash_map.h"
#include "tokenizer/loaders.h"

namespace tune::tokenizer::internal {
namespace {

// Spellings by family: Qwen2.5-Coder / CodeGemma, StarCoder / StarCoder2, SantaCoder, CodeLlama
// (▁-prefixed pieces, and bare in some conversions), DeepSeek-Coder (full-width bars, ▁).
constexpr std::string_view kPrefix[] = {
    "<|fim_prefix|>", "<fim_prefix>", "<fim-prefix>", "\u2581<PRE>", "<PRE>",
    "<\uFF5Cfim\u2581begin\uFF5C>"};
constexpr std::string_view kMiddle[] = {
    "<|fim_middle|>", "<fim_middle>", "<fim-middle>", "\u2581<MID>", "<MID>",
    "<\uFF5Cfim\u2581end\uFF5C>"};
constexpr std::string_view kSuffix[] = {
    "<|fim_suffix|>", "<fim_suffix>", "<fim-suffix>", "\u2581<SUF>", "<SUF>",
    "<\uFF5Cfim\u2581hole\uFF5C>"};
constexpr std::string_view kPad[] = {"<|fim_pad|>", "<fim_pad>", "<fim-pad>"};
constexpr std::string_view kRepoName[] = {"<|repo_name|>", "<repo_name>", "<reponame>"};
constexpr std::string_view kFileSep[] = {"<|file_sep|>", "<file_sep>", "<|file_separator|>"};
// End of the middle: CodeLlama's EOT, else the end-of-document token (EOS fallback below).
constexpr std::string_view kEot[] = {"\u2581<EOT>", "<EOT>", "<|endoftext|>"};

}  // namespace

void DiscoverFimTokens(const VocabData& vocab, FimTokens& fim) {
  // Every spelling starts with "<" or "▁<": only such tokens are indexed.
  absl::flat_hash_map<std::string_view, int32_t> ids;
  for (size_t i = 0; i < vocab.tokens.size(); ++i) {
    const TokenType type = vocab.types[i];
    const std::string_view t = vocab.tokens[i];
    if (!t.starts_with('<') && !t.starts_with("\u2581<")) continue;
    if (type == TokenType::kNormal || type == TokenType::kControl ||
        type == TokenType::kUserDefined) {
      ids.try_emplace(t, static_cast<int32_t>(i));
    }
  }
  auto fill = [&](std::optional<int32_t>& slot, const auto& spellings) {
    for (std::string_view s : spellings) {
      if (slot) return;
      if (auto it = ids.find(s); it != ids.end()) slot = it->second;
    }
  };
  fill(fim.prefix, kPrefix);
  fill(fim.middle, kMiddle);
  fill(fim.suffix, kSuffix);
  fill(fim.pad, kPad);
  fill(fim.repo_name, kRepoName);
  fill(fim.file_sep, kFileSep);
  fill(fim.eot, kEot);
  if (!fim.eot && fim.available()) fim.eot = vocab.eos;
}

}  // namespace tune::tokenizer::internal

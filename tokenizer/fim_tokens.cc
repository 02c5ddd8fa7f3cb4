// FIM / repo-level token discovery by spelling. Each slot lists every family's spelling; a
// vocabulary has at most one family's, so the first one present wins.
#include <string_view>

#include "absl/container/flat_hash_map.h"
#include "tokenizer/loaders.h"

namespace tune::tokenizer::internal {
namespace {


// Qwen2.5-Coder / CodeGemma, StarCoder / StarCoder2, SantaCoder, CodeLlama, DeepSeek-Coder.
const std::string_view kPrefix[] = {"<|fim_prefix|>", "<fim_prefix>", "<fim-prefix>",
                               "\xE2\x96\x81<PRE>", "<PRE>", "<\xEF\xBD\x9C" "fim\xE2\x96\x81"
                               "begin\xEF\xBD\x9C>"};
const std::string_view kMiddle[] = {"<|fim_middle|>", "<fim_middle>", "<fim-middle>",
                               "\xE2\x96\x81<MID>", "<MID>", "<\xEF\xBD\x9C" "fim\xE2\x96\x81"
                               "end\xEF\xBD\x9C>"};
const std::string_view kSuffix[] = {"<|fim_suffix|>", "<fim_suffix>", "<fim-suffix>",
                               "\xE2\x96\x81<SUF>", "<SUF>", "<\xEF\xBD\x9C" "fim\xE2\x96\x81"
                               "hole\xEF\xBD\x9C>"};
const std::string_view kPad[] = {"<|fim_pad|>", "<fim_pad>", "<fim-pad>"};
const std::string_view kRepoName[] = {"<|repo_name|>", "<repo_name>", "<reponame>"};
const std::string_view kFileSep[] = {"<|file_sep|>", "<file_sep>", "<|file_separator|>"};
// End of the middle: CodeLlama's EOT, else the end-of-document token (EOS fallback below).
const std::string_view kEot[] = {"\xE2\x96\x81<EOT>", "<EOT>", "<|endoftext|>"};

}  // namespace

void DiscoverFimTokens(const VocabData& vocab, FimTokens& fim) {
  absl::flat_hash_map<std::string_view, int32_t> ids;
  for (size_t i = 0; i < vocab.tokens.size(); ++i) {
    const TokenType type = vocab.types[i];
    if (type == TokenType::kNormal || type == TokenType::kControl ||
        type == TokenType::kUserDefined) {
      ids.try_emplace(vocab.tokens[i], static_cast<int32_t>(i));
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

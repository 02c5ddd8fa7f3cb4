// Readers of the tokenizer files on disk, each producing VocabData. Internal to tune_tokenizer.
#pragma once

#include <filesystem>
#include <string_view>

#include "absl/status/statusor.h"
#include "tokenizer/tokenizer.h"

namespace tune::tokenizer::internal {

// Hugging Face tokenizer.json (BPE models). `config_json` is tokenizer_config.json's contents,
// empty when absent.
absl::StatusOr<VocabData> ReadHfTokenizerJson(const std::filesystem::path& path,
                                             std::string_view config_json);

// SentencePiece tokenizer.model (a ModelProto; BPE models with identity normalization).
absl::StatusOr<VocabData> ReadSentencePieceModel(const std::filesystem::path& path,
                                                 std::string_view config_json);

// Fills the empty slots of `fim` from the family's spellings found among `vocab.tokens`.
void DiscoverFimTokens(const VocabData& vocab, FimTokens& fim);

}  // namespace tune::tokenizer::internal

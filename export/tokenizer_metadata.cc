#include "export/tokenizer_metadata.h"

#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_format.h"
#include "core/status.h"

namespace tune::exporter {
namespace {

using tokenizer::ModelKind;
using tokenizer::TokenType;

// llama.cpp's converter pads SentencePiece vocabularies with this score.
constexpr float kPadScore = -1000.0f;

absl::Status SetId(gguf::GgufWriter& w, const char* key, const std::optional<int32_t>& id) {
  if (!id.has_value() || *id < 0) return absl::OkStatus();
  return w.Set(key, static_cast<uint32_t>(*id));
}

}  // namespace

absl::Status SetTokenizerMetadata(gguf::GgufWriter& w, const tokenizer::Tokenizer& tok,
                                  uint32_t n_vocab) {
  const tokenizer::VocabData& vocab = tok.vocab();
  if (vocab.tokens.size() > n_vocab) {
    return absl::FailedPreconditionError(absl::StrFormat(
        "tokenizer has %d tokens but the model's vocab_size is %d; hint: the tokenizer belongs "
        "to another model",
        vocab.tokens.size(), n_vocab));
  }
  const bool spm = vocab.model == ModelKind::kSentencePiece;
  std::vector<std::string> tokens = vocab.tokens;
  std::vector<int32_t> types;
  types.reserve(n_vocab);
  for (TokenType t : vocab.types) types.push_back(static_cast<int32_t>(t));
  std::vector<float> scores = vocab.scores;
  for (size_t i = tokens.size(); i < n_vocab; ++i) {
    tokens.push_back(absl::StrFormat("[PAD%d]", i));
    types.push_back(static_cast<int32_t>(TokenType::kUnused));
    if (spm) scores.push_back(kPadScore);
  }
  TUNE_RETURN_IF_ERROR(w.Set("tokenizer.ggml.model", std::string(spm ? "llama" : "gpt2")));
  TUNE_RETURN_IF_ERROR(w.Set("tokenizer.ggml.pre", spm ? std::string("default") : vocab.pre));
  TUNE_RETURN_IF_ERROR(w.Set("tokenizer.ggml.tokens", std::move(tokens)));
  if (!scores.empty()) TUNE_RETURN_IF_ERROR(w.Set("tokenizer.ggml.scores", std::move(scores)));
  TUNE_RETURN_IF_ERROR(w.Set("tokenizer.ggml.token_type", std::move(types)));
  if (!vocab.merges.empty()) TUNE_RETURN_IF_ERROR(w.Set("tokenizer.ggml.merges", vocab.merges));
  TUNE_RETURN_IF_ERROR(SetId(w, "tokenizer.ggml.bos_token_id", vocab.bos));
  TUNE_RETURN_IF_ERROR(SetId(w, "tokenizer.ggml.eos_token_id", vocab.eos));
  TUNE_RETURN_IF_ERROR(SetId(w, "tokenizer.ggml.unknown_token_id", vocab.unk));
  TUNE_RETURN_IF_ERROR(SetId(w, "tokenizer.ggml.padding_token_id", vocab.pad));
  TUNE_RETURN_IF_ERROR(w.Set("tokenizer.ggml.add_bos_token", vocab.add_bos));
  TUNE_RETURN_IF_ERROR(w.Set("tokenizer.ggml.add_eos_token", false));
  if (spm) {
    TUNE_RETURN_IF_ERROR(w.Set("tokenizer.ggml.add_space_prefix", vocab.add_space_prefix));
    TUNE_RETURN_IF_ERROR(
        w.Set("tokenizer.ggml.remove_extra_whitespaces", vocab.remove_extra_whitespaces));
  }
  // llama.cpp auto-detects only some FIM spellings (not StarCoder2's <repo_name>/<file_sep>),
  // so every id tune knows is written explicitly.
  const tokenizer::FimTokens& fim = tok.fim();
  TUNE_RETURN_IF_ERROR(SetId(w, "tokenizer.ggml.fim_pre_token_id", fim.prefix));
  TUNE_RETURN_IF_ERROR(SetId(w, "tokenizer.ggml.fim_suf_token_id", fim.suffix));
  TUNE_RETURN_IF_ERROR(SetId(w, "tokenizer.ggml.fim_mid_token_id", fim.middle));
  TUNE_RETURN_IF_ERROR(SetId(w, "tokenizer.ggml.fim_pad_token_id", fim.pad));
  TUNE_RETURN_IF_ERROR(SetId(w, "tokenizer.ggml.fim_rep_token_id", fim.repo_name));
  TUNE_RETURN_IF_ERROR(SetId(w, "tokenizer.ggml.fim_sep_token_id", fim.file_sep));
  return absl::OkStatus();
}

}  // namespace tune::exporter

// Native tokenizers of the supported base models, token-for-token equal to Hugging Face
// `tokenizers` (and to libsentencepiece for tokenizer.model files), without linking either.
//
// Families: byte-level BPE with the Qwen2/2.5/3 (NFC + split regex), Llama-3, GPT-2,
// StarCoder/StarCoder2 and DeepSeek-Coder pre-tokenizers; SentencePiece BPE (Llama-2,
// CodeLlama, Mistral, CodeGemma style) from tokenizer.json (byte fallback) or tokenizer.model.
// The same tokenizer can be built from, and exported as, plain vocabulary data (VocabData: the
// GGUF tokenizer.ggml.* fields), which is how the GGUF reader/writer round-trips it. See
// docs/tokenizers.md.
//
// All methods are const and thread-safe: ingest encodes from several threads.
#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"

namespace tune::tokenizer {

// Ids of the family's FIM / repo-level tokens; nullopt where the vocabulary has none. The one
// struct ingest, eval and serve share. Known spellings (docs/tokenizers.md has the table):
// Qwen `<|fim_prefix|>`..., StarCoder `<fim_prefix>`..., CodeLlama `▁<PRE>`..., DeepSeek
// `<｜fim▁begin｜>` (prefix), `<｜fim▁hole｜>` (suffix), `<｜fim▁end｜>` (middle).
struct FimTokens {
  std::optional<int32_t> prefix, middle, suffix, pad, repo_name, file_sep, eot;
  bool available() const { return prefix && middle && suffix; }
  bool operator==(const FimTokens&) const = default;
};

// GGUF tokenizer.ggml.token_type values.
enum class TokenType : int32_t {
  kUndefined = 0,
  kNormal = 1,
  kUnknown = 2,
  kControl = 3,
  kUserDefined = 4,
  kUnused = 5,
  kByte = 6,
};

enum class ModelKind {
  kByteLevelBpe,   // GGUF tokenizer.ggml.model "gpt2"
  kSentencePiece,  // GGUF tokenizer.ggml.model "llama": SentencePiece BPE, byte fallback
};

// The plain vocabulary data of a tokenizer, field for field what GGUF stores. Tokenizer::FromVocab
// builds a tokenizer from it and Tokenizer::vocab() gives it back, so that
// FromVocab(t.vocab()) encodes exactly like t.
struct VocabData {
  ModelKind model = ModelKind::kByteLevelBpe;
  // Pre-tokenizer, by its GGUF name: "qwen2" (implies NFC), "llama-bpe" (implies
  // ignore_merges), "gpt-2", "starcoder", "deepseek-coder"; "default" for SentencePiece.
  std::string pre;
  // Token texts as GGUF stores them: byte-level BPE tokens in the GPT-2 byte-to-unicode
  // alphabet (`Ġ` for space), SentencePiece pieces with `▁`; control and user-defined tokens as
  // the literal text they stand for.
  std::vector<std::string> tokens;
  std::vector<TokenType> types;  // one per token
  // SentencePiece: one score per token (higher merges first). Byte-level BPE: empty.
  std::vector<float> scores;
  // BPE merges "left right" in rank order. Required for byte-level BPE; for SentencePiece,
  // merges take precedence over scores when both are present.
  std::vector<std::string> merges;
  std::optional<int32_t> bos, eos, unk, pad;
  bool add_bos = false;
  // SentencePiece: prepend `▁` to each text segment (the text between matched special tokens).
  bool add_space_prefix = false;
  // SentencePiece: drop leading spaces, trailing spaces / `▁`, and collapse runs of spaces.
  bool remove_extra_whitespaces = false;
  // Explicit FIM ids (GGUF fim_* keys). Slots left empty are filled by looking the family's
  // spellings up in `tokens`.
  FimTokens fim;
};

class Tokenizer {
 public:
  // path: tokenizer.json, tokenizer.model, or a directory holding one (an HF model directory;
  // tokenizer.json is preferred). tokenizer_config.json beside it supplies add_bos and the
  // bos/eos/pad tokens.
  static absl::StatusOr<std::unique_ptr<Tokenizer>> Load(const std::filesystem::path& path);
  // Builds a tokenizer from plain vocabulary data (e.g. read from GGUF metadata).
  static absl::StatusOr<std::unique_ptr<Tokenizer>> FromVocab(VocabData vocab);

  ~Tokenizer();
  Tokenizer(const Tokenizer&) = delete;
  Tokenizer& operator=(const Tokenizer&) = delete;

  // Token ids of `text`, without BOS/EOS (callers add bos_id() when add_bos()).
  // parse_special=false: control tokens written in the text, FIM / repo-level tokens included
  // (`<|fim_prefix|>`, `<fim_prefix>`), are encoded as plain text, so source files cannot inject
  // them (ingest); user-defined vocabulary tokens (Gemma's whitespace runs, Qwen's `<think>`)
  // are still matched, as Hugging Face and libsentencepiece always do. true: Hugging Face's
  // behaviour, every added / control / user-defined token written in the text is matched
  // (leftmost, longest).
  // Any byte string is accepted: invalid UTF-8 and NUL bytes are encoded as their bytes (byte
  // tokens, or the unknown token when the vocabulary has neither).
  std::vector<int32_t> Encode(std::string_view text, bool parse_special = false) const;

  // The bytes the ids stand for (control tokens as their text). Ids outside the vocabulary
  // decode to nothing. Unlike Hugging Face, invalid UTF-8 is returned as is, not replaced.
  std::string Decode(std::span<const int32_t> ids) const;

  int32_t vocab_size() const;
  std::optional<int32_t> bos_id() const;
  std::optional<int32_t> eos_id() const;
  bool add_bos() const;  // whether the family prepends BOS (llama-2 yes, qwen no)
  const FimTokens& fim() const;
  // Stable hex hash of vocabulary, merges, scores and configuration, for manifests.
  std::string Fingerprint() const;
  // The exact bytes one token stands for, as llama.cpp's token_to_piece gives them (a
  // SentencePiece `▁` is a space even first; control tokens as their text); empty for ids
  // outside the vocabulary. What a streaming decoder appends token by token.
  std::string TokenBytes(int32_t id) const;
  // The vocabulary entry's text as stored (e.g. `Ġhello`, `▁hello`, `<|fim_prefix|>`); empty
  // for ids outside the vocabulary.
  std::string TokenText(int32_t id) const;
  // The plain data this tokenizer was built from, with SentencePiece scores filled in when the
  // source had only merges; what the GGUF writer stores.
  const VocabData& vocab() const;

  struct Impl;

 private:
  explicit Tokenizer(std::unique_ptr<const Impl> impl);
  std::unique_ptr<const Impl> impl_;
};

}  // namespace tune::tokenizer

// Hand-written equivalents of the pre-tokenizer regexes of the byte-level BPE families. They
// reproduce the regex engines' leftmost-first alternation exactly (checked against Hugging Face
// ids in tests/tokenizer), without a regex library and several times faster than one.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace tune::tokenizer::internal {

enum class PreTokenizerKind {
  // (?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|
  // \s*[\r\n]+|\s+(?!\S)|\s+   (Qwen2, Qwen2.5, Qwen3)
  kQwen2,
  // The same with \p{N}{1,3} (Llama-3).
  kLlama3,
  // GPT-2: 's|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+
  kGpt2,
  // Digits(individual_digits) then the GPT-2 regex (StarCoder, StarCoder2).
  kStarcoder,
  // Isolated splits in sequence: [\r\n], \s?\p{L}+, \s?\p{P}+, [一-龥ࠀ-一가-퟿]+, \p{N}
  // (DeepSeek-Coder v1).
  kDeepseekCoder,
};

// GGUF `tokenizer.ggml.pre` name of each kind, and back (nullopt for names we do not handle).
std::string_view PreTokenizerGgufName(PreTokenizerKind kind);
std::optional<PreTokenizerKind> PreTokenizerFromGgufName(std::string_view name);
// The kind whose tokenizer.json pre-tokenizer is this sequence of Split regexes (followed by
// ByteLevel without regex).
std::optional<PreTokenizerKind> PreTokenizerFromRegexes(std::vector<std::string> patterns);

// A piece of the input: text.substr(offset, length).
struct Piece {
  uint32_t offset;
  uint32_t length;
};

// Splits text into pieces that cover it in order (appended to `pieces`, whose storage a caller
// looping over many segments can reuse).
class PreTokenizer {
 public:
  explicit PreTokenizer(PreTokenizerKind kind) : kind_(kind) {}
  PreTokenizerKind kind() const { return kind_; }
  void Split(std::string_view text, std::vector<Piece>& pieces) const;

 private:
  PreTokenizerKind kind_;
};

}  // namespace tune::tokenizer::internal

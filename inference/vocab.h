// The vocabulary view the prompt builders need: text -> ids without special-token parsing (user
// code can never produce a control token), ids -> text, and the family's FIM / repo tokens.
// LlamaModel (inference/llama_model.h) implements it on a GGUF; tests implement it by hand.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace tune::inference {

// The family's sentinels as found in the GGUF (tokenizer.ggml.fim_*_token_id, or llama.cpp's
// detection by spelling); absent ones are std::nullopt.
struct FimTokenIds {
  std::optional<int32_t> prefix, suffix, middle, pad, repo_name, file_sep;
  bool available() const { return prefix && suffix && middle; }
};

class Vocab {
 public:
  virtual ~Vocab() = default;
  // Encodes text; special-token spellings are parsed only when parse_special.
  virtual std::vector<int32_t> Tokenize(std::string_view text, bool parse_special) const = 0;
  // The bytes a token stands for (special tokens by their spelling).
  virtual std::string Piece(int32_t id) const = 0;
  virtual int32_t size() const = 0;
  virtual FimTokenIds fim() const = 0;
  // BOS to put first, when the model wants one (tokenizer.ggml.add_bos_token).
  virtual std::optional<int32_t> bos_to_add() const = 0;
  // End of generation: EOS, EOT, and the FIM sentinels llama.cpp stops at.
  virtual bool IsEndOfGeneration(int32_t id) const = 0;
};

}  // namespace tune::inference

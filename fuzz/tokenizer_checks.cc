#include "fuzz/tokenizer_checks.h"

#include <string>
#include <vector>

#include "fuzz/fuzz_target.h"
#include "tokenizer/unicode.h"

namespace tune::fuzz {
namespace {

std::string RoundTripped(const tokenizer::Tokenizer& tok, std::string_view text) {
  if (tok.vocab().model == tokenizer::ModelKind::kSentencePiece) {
    std::string out;
    for (size_t pos = 0; pos < text.size();) {
      if (text.substr(pos, 3) == "\xE2\x96\x81") {
        out += ' ';
        pos += 3;
      } else {
        out += text[pos++];
      }
    }
    return out;
  }
  std::string nfc;
  if (tok.vocab().pre == "qwen2" && tokenizer::internal::NormalizeNfc(text, nfc)) return nfc;
  return std::string(text);
}

// Encode + Decode; every id must be inside the vocabulary.
std::string EncodeDecode(const tokenizer::Tokenizer& tok, std::string_view text, bool parse_special) {
  const std::vector<int32_t> ids = tok.Encode(text, parse_special);
  for (int32_t id : ids) {
    if (id < 0 || id >= tok.vocab_size()) {
      Fail("id inside the vocabulary", __FILE__, __LINE__,
           std::to_string(id) + " of " + std::to_string(tok.vocab_size()));
    }
  }
  return tok.Decode(ids);
}

}  // namespace

void CheckRoundTrip(const tokenizer::Tokenizer& tok, std::string_view text) {
  const std::string decoded = EncodeDecode(tok, text, /*parse_special=*/false);
  if (decoded != RoundTripped(tok, text)) Fail("round trip", __FILE__, __LINE__, decoded);
  EncodeDecode(tok, text, /*parse_special=*/true);
}

void CheckTokenizerFile(const std::filesystem::path& path) {
  absl::StatusOr<std::unique_ptr<tokenizer::Tokenizer>> tok = tokenizer::Tokenizer::Load(path);
  if (!tok.ok()) return CheckError(tok.status(), path.string());
  TUNE_FUZZ_CHECK((*tok)->vocab_size() > 0);
  for (bool parse_special : {false, true}) {
    EncodeDecode(**tok, "def f(x):\n    return x  # \xF0\x9F\x98\x80\xFF <|endoftext|>", parse_special);
  }
}

}  // namespace tune::fuzz

// Encode/Decode of arbitrary bytes with the fixture tokenizers (byte-level BPE from qwen3's
// tokenizer.json, SentencePiece from llama2's tokenizer.json and tiny-llama's tokenizer.model).
// The first byte picks the tokenizer; the rest is the text, which must round-trip. The same
// bytes read as int32 ids (most outside the vocabulary) must decode as if the ids outside the
// vocabulary were not there.
#include <cstring>
#include <memory>
#include <vector>

#include "fuzz/fuzz_target.h"
#include "fuzz/tokenizer_checks.h"

namespace {

const std::vector<std::unique_ptr<tune::tokenizer::Tokenizer>>& Fixtures() {
  static const auto* fixtures = [] {
    auto* all = new std::vector<std::unique_ptr<tune::tokenizer::Tokenizer>>();
    for (const char* name : {"tokenizers/qwen3/tokenizer.json", "tokenizers/llama2/tokenizer.json",
                             "tiny-llama/tokenizer.model"}) {
      absl::StatusOr<std::unique_ptr<tune::tokenizer::Tokenizer>> tok =
          tune::tokenizer::Tokenizer::Load(tune::fuzz::FixturePath(name));
      if (!tok.ok()) tune::fuzz::Fail("fixture loads", __FILE__, __LINE__, tok.status().ToString());
      all->push_back(*std::move(tok));
    }
    return all;
  }();
  return *fixtures;
}

}  // namespace

TUNE_FUZZ_TARGET(tokenizer_encode) {
  if (input.empty()) return;
  const tune::tokenizer::Tokenizer& tok = *Fixtures()[static_cast<uint8_t>(input[0]) % Fixtures().size()];
  const std::string_view text = input.substr(1);
  tune::fuzz::CheckRoundTrip(tok, text);
  std::vector<int32_t> ids, in_vocab;
  for (size_t pos = 0; pos + sizeof(int32_t) <= text.size(); pos += sizeof(int32_t)) {
    int32_t id;
    std::memcpy(&id, text.data() + pos, sizeof(id));
    ids.push_back(id);
    if (id >= 0 && id < tok.vocab_size()) in_vocab.push_back(id);
  }
  TUNE_FUZZ_CHECK(tok.Decode(ids) == tok.Decode(in_vocab));
}

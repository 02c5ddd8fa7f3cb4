// Tokenizer::Load of a tokenizer.json (Hugging Face tokenizers' format): model, vocab, merges,
// added tokens, normalizer and pre-tokenizer sections. A tokenizer it accepts must encode and
// decode text into its own vocabulary.
#include "fuzz/fuzz_target.h"
#include "fuzz/tokenizer_checks.h"

TUNE_FUZZ_TARGET(tokenizer_json) {
  tune::fuzz::CheckTokenizerFile(tune::fuzz::WriteInput("tokenizer.json", input));
}

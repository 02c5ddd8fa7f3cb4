// Tokenizer::Load of a SentencePiece tokenizer.model (protobuf ModelProto, read without
// libsentencepiece): wire format, pieces, scores, types, normalizer spec.
#include "fuzz/fuzz_target.h"
#include "fuzz/tokenizer_checks.h"

TUNE_FUZZ_TARGET(tokenizer_model) {
  tune::fuzz::CheckTokenizerFile(tune::fuzz::WriteInput("tokenizer.model", input));
}

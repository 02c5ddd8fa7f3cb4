// A tokenizer's vocabulary as GGUF tokenizer.ggml.* metadata, the keys llama.cpp's vocabulary
// loader reads: SentencePiece as model "llama" (pieces, scores, token types) and byte-level BPE
// as model "gpt2" (tokens in the byte-to-unicode alphabet, merges, pre-tokenizer name), the
// special ids, add_bos / add_eos, and the FIM ids (fim_pre/suf/mid/pad/rep/sep).
#pragma once

#include <cstdint>

#include "absl/status/status.h"
#include "gguf/gguf_writer.h"
#include "tokenizer/tokenizer.h"

namespace tune::exporter {

// Writes `tok.vocab()` with the resolved `tok.fim()` ids, padded to `n_vocab` entries (the rows of
// token_embd): convert_hf_to_gguf.py's
// "[PAD<i>]" tokens of type UNUSED (score -1000 for SentencePiece), since llama.cpp requires
// one token per embedding row. FailedPrecondition when the vocabulary is larger than n_vocab
// (a tokenizer of another model).
absl::Status SetTokenizerMetadata(gguf::GgufWriter& writer, const tokenizer::Tokenizer& tok,
                                  uint32_t n_vocab);

}  // namespace tune::exporter

// Checks shared by the tokenizer fuzz targets.
#pragma once

#include <filesystem>
#include <string_view>

#include "tokenizer/tokenizer.h"

namespace tune::fuzz {

// Encodes `text` with and without special-token parsing: every id is inside the vocabulary.
// Without it, Decode gives the text back modulo the documented normalizations (NFC for the qwen2
// pre-tokenizer, SentencePiece's `▁` as a space); with it, SentencePiece adds a `▁` to the text
// after each special token, so there is no such identity.
void CheckRoundTrip(const tokenizer::Tokenizer& tok, std::string_view text);

// Loads `path`; an error must name the file; a tokenizer it accepts must encode and decode
// a sample (special tokens, emoji, invalid UTF-8) inside its vocabulary.
void CheckTokenizerFile(const std::filesystem::path& path);

}  // namespace tune::fuzz

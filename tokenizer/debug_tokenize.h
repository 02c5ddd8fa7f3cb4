// `tune debug tokenize`: the library side, so the CLI only parses flags and tests need no binary.
#pragma once

#include <filesystem>
#include <optional>
#include <string>

#include "absl/status/statusor.h"

namespace tune::tokenizer {

struct DebugTokenizeOptions {
  std::filesystem::path tokenizer;  // tokenizer.json, tokenizer.model or a model directory
  std::optional<std::string> text;  // exactly one of text / text_file
  std::optional<std::filesystem::path> text_file;
  // Input is a JSON array of ids (e.g. this command's own output); the result is their text.
  bool decode = false;
  bool parse_special = false;  // match control tokens written in the text (HF's behaviour)
};

// Encode: the ids as a JSON array ("[9707,1879]"). Decode: the text the ids stand for.
absl::StatusOr<std::string> DebugTokenize(const DebugTokenizeOptions& options);

}  // namespace tune::tokenizer

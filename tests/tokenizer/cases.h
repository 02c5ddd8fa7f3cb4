// Reference cases {"cases":[{"text","ids","decoded"}]} as written by Hugging Face `tokenizers`
// (tests/tokenizer/testdata/README.md says how ours were made).
#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include "tokenizer/tokenizer.h"

namespace tune::tokenizer {

struct Case {
  std::string text;
  std::vector<int32_t> ids;
  std::string decoded;
};

std::vector<Case> LoadCases(const std::filesystem::path& path);

// Every case: Encode(text, parse_special=true) == ids and Decode(ids) == decoded.
void ExpectCasesExact(const Tokenizer& tok, const std::vector<Case>& cases);

}  // namespace tune::tokenizer

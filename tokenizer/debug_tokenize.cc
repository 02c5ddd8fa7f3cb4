#include "tokenizer/debug_tokenize.h"

#include <nlohmann/json.hpp>

#include "absl/strings/str_format.h"
#include "core/file.h"
#include "core/status.h"
#include "tokenizer/tokenizer.h"

namespace tune::tokenizer {

absl::StatusOr<std::string> DebugTokenize(const DebugTokenizeOptions& options) {
  if (options.text.has_value() == options.text_file.has_value()) {
    return absl::InvalidArgumentError(
        "debug tokenize: give exactly one of --text and --text-file; hint: --text 'def f():'");
  }
  std::string input;
  if (options.text) {
    input = *options.text;
  } else {
    TUNE_ASSIGN_OR_RETURN(input, core::ReadFile(*options.text_file));
  }
  TUNE_ASSIGN_OR_RETURN(std::unique_ptr<Tokenizer> tok, Tokenizer::Load(options.tokenizer));
  if (!options.decode) {
    return nlohmann::json(tok->Encode(input, options.parse_special)).dump();
  }
  const auto json = nlohmann::json::parse(input, nullptr, /*allow_exceptions=*/false);
  std::vector<int32_t> ids;
  bool valid = json.is_array();
  for (const auto& id : json) {
    if (!valid || !id.is_number_integer() || id.get<int64_t>() < 0 ||
        id.get<int64_t>() >= tok->vocab_size()) {
      valid = false;
      break;
    }
    ids.push_back(id.get<int32_t>());
  }
  if (!valid) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "debug tokenize --decode: input is not a JSON array of token ids below %d; hint: pass "
        "e.g. --text '[9707,1879]'",
        tok->vocab_size()));
  }
  return tok->Decode(ids);
}

}  // namespace tune::tokenizer

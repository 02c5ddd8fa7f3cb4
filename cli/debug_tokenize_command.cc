// `tune debug tokenize`: text to token ids (a JSON array) with the base model's own tokenizer,
// or ids back to text with --decode.
#include <cstdio>
#include <memory>
#include <string>

#include "cli/commands.h"
#include "tokenizer/debug_tokenize.h"

namespace tune::cli {

void RegisterDebugTokenizeCommand(CLI::App& debug, absl::Status& result) {
  struct Flags {
    std::string tokenizer;
    std::string text;
    std::string text_file;
    bool decode = false;
    bool parse_special = false;
  };
  auto flags = std::make_shared<Flags>();
  CLI::App* cmd = debug.add_subcommand(
      "tokenize", "print the token ids of a text as a JSON array (--decode: ids to text)");
  cmd->add_option("--tokenizer", flags->tokenizer,
                  "tokenizer.json, tokenizer.model or a Hugging Face model directory")
      ->required();
  CLI::Option* text = cmd->add_option("--text", flags->text,
                                      "the text (with --decode: a JSON array of ids)");
  CLI::Option* file =
      cmd->add_option("--text-file", flags->text_file, "read the text from this file");
  text->excludes(file);
  file->excludes(text);
  cmd->add_flag("--decode", flags->decode, "input is a JSON array of ids; print their text");
  cmd->add_flag("--parse-special", flags->parse_special,
                "match control tokens written in the text, e.g. <|fim_prefix|> (HF's behaviour)");
  cmd->callback([flags, text, file, &result] {
    tokenizer::DebugTokenizeOptions options;
    options.tokenizer = flags->tokenizer;
    if (*text) options.text = flags->text;
    if (*file) options.text_file = flags->text_file;
    options.decode = flags->decode;
    options.parse_special = flags->parse_special;
    absl::StatusOr<std::string> out = tokenizer::DebugTokenize(options);
    if (!out.ok()) {
      result = out.status();
      return;
    }
    std::fwrite(out->data(), 1, out->size(), stdout);
    if (!flags->decode) std::fputc('\n', stdout);
    result = absl::OkStatus();
  });
}

}  // namespace tune::cli

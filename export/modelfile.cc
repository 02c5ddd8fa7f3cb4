#include "export/modelfile.h"

#include <optional>
#include <set>

#include "absl/strings/str_format.h"
#include "absl/strings/str_replace.h"

namespace tune::exporter {
namespace {

// Ollama tokenizes the rendered template as text: a SentencePiece piece's `▁` is a space.
std::string TemplateText(const tokenizer::Tokenizer& tok, int32_t id) {
  return absl::StrReplaceAll(tok.TokenText(id), {{"\xE2\x96\x81", " "}});
}

}  // namespace

std::string OllamaModelfile(std::string_view gguf_file, const tokenizer::Tokenizer& tok) {
  const tokenizer::FimTokens& fim = tok.fim();
  std::string out = absl::StrFormat(
      "# Written by `tune export`; use: ollama create NAME -f Modelfile\n"
      "FROM %s\n",
      gguf_file);
  if (fim.available()) {
    out += absl::StrFormat(
        "TEMPLATE \"\"\"{{- if .Suffix }}%s{{ .Prompt }}%s{{ .Suffix }}%s\n"
        "{{- else }}{{ .Prompt }}\n"
        "{{- end }}\"\"\"\n",
        TemplateText(tok, *fim.prefix), TemplateText(tok, *fim.suffix),
        TemplateText(tok, *fim.middle));
  } else {
    out += "TEMPLATE \"\"\"{{ .Prompt }}\"\"\"\n";
  }
  out += "PARAMETER temperature 0.2\n";
  // Each distinct end-of-completion token once, in a stable order.
  std::set<std::string> seen;
  for (const std::optional<int32_t>& id :
       {tok.eos_id(), fim.eot, fim.pad, fim.file_sep, fim.repo_name}) {
    if (!id.has_value()) continue;
    const std::string text = tok.TokenText(*id);
    if (text.empty() || !seen.insert(text).second) continue;
    out += absl::StrFormat("PARAMETER stop \"%s\"\n",
                           absl::StrReplaceAll(text, {{"\\", "\\\\"}, {"\"", "\\\""}}));
  }
  return out;
}

}  // namespace tune::exporter

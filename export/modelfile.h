// The Ollama Modelfile written next to an exported GGUF, so that `ollama create NAME -f
// Modelfile` works without editing: FROM the GGUF (a path relative to the Modelfile), a
// TEMPLATE whose `.Suffix` branch is the family's FIM prompt (Ollama enables insert/FIM
// completion only when the template uses .Suffix), and stop parameters for the tokens that end
// a completion.
#pragma once

#include <string>
#include <string_view>

#include "tokenizer/tokenizer.h"

namespace tune::exporter {

// `gguf_file` as written after FROM (e.g. "./model-Q4_K_M.gguf"). Without FIM tokens in the
// vocabulary the template is the plain prompt.
std::string OllamaModelfile(std::string_view gguf_file, const tokenizer::Tokenizer& tok);

}  // namespace tune::exporter

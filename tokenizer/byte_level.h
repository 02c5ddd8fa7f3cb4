// GPT-2's reversible byte <-> unicode alphabet used by byte-level BPE vocabularies: printable
// bytes map to themselves, the others to U+0100 + n (space is `Ġ`, newline `Ċ`).
#pragma once

#include <string>
#include <string_view>

namespace tune::tokenizer::internal {

// The byte-level text of raw bytes ("a b" -> "aĠb").
std::string BytesToByteLevel(std::string_view bytes);
// The raw bytes of a byte-level token text. Characters outside the alphabet (never present in
// real vocabularies) are kept as their UTF-8 bytes.
std::string ByteLevelToBytes(std::string_view text);

}  // namespace tune::tokenizer::internal

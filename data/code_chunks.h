// Cuts a source file into the chunks the retrieval index holds (retrieval/index.h): each
// definition tree-sitter finds (function, method, class, struct, type...) that fits in
// max_lines and max_bytes is one chunk, whole lines from the one it starts on; a definition too
// big for a chunk is cut into its own definitions; lines outside any such chunk are cut into
// windows of at most max_lines / max_bytes. Whitespace-only windows are dropped. Every chunk
// lists the names of the definitions that start in it (so a class too big for one chunk is still
// found by its name, in the chunk holding its first line). Files without a grammar, or that do not
// parse in time, are windows only.
#pragma once

#include <cstdint>
#include <string_view>
#include <vector>

#include "retrieval/index.h"

namespace tune::data {

struct ChunkOptions {
  int32_t max_lines = 40;
  int32_t max_bytes = 4096;
};

std::vector<retrieval::IndexedChunk> ChunkSource(std::string_view language, std::string_view text,
                                                 const ChunkOptions& options);

}  // namespace tune::data

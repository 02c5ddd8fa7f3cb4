// tune's JSON-lines files (heldout.jsonl, retrieval.jsonl): line 1 is a header object,
// {"format": F, "format_version": V, ..., "files": N}, then N record lines, one object each, every
// line ending in '\n'. One reader for their framing, so a truncated, padded or damaged file is
// reported the same way for each: an error naming the file, the line and the hint, never an
// exception.
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <nlohmann/json.hpp>
#include <string_view>

#include "absl/status/status.h"
#include "core/json_fields.h"

namespace tune::core {

struct JsonLinesFormat {
  std::string_view format;  // the header's "format"
  uint64_t version;         // the header's "format_version" this build reads
  std::string_view hint;    // what to do about a bad file
};

// Reads `file`: checks the header's format and version (JsonFields::CheckHeader), calls `header`
// for its other fields, then `record` for each of the "files" record lines. Both get a
// JsonFields whose origin is "FILE line N". Errors: the file's own read error (NotFound when
// absent); FailedPrecondition for another format_version; DataLoss for "no final newline
// (truncated)", "not a JSON object", "empty file", "more files than the header lists", "the header
// lists N files but M follow", and what the callbacks return.
using JsonLinesReader = std::function<absl::Status(const nlohmann::json&, const JsonFields&)>;
absl::Status ReadJsonLines(const std::filesystem::path& file, const JsonLinesFormat& format,
                           const JsonLinesReader& header, const JsonLinesReader& record);

}  // namespace tune::core

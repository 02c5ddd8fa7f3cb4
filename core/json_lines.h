// tune's JSON-lines files (heldout.jsonl, retrieval.jsonl): line 1 is a header object,
// {"format": F, "format_version": V, "commit": C, "repo_name": R, "files": N}, then N record lines,
// one object each, every line ending in '\n'. One reader for their framing, so a truncated, padded
// or damaged file is reported the same way for each: an error naming the file, the line and the
// hint, never an exception.
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "core/json_fields.h"

namespace tune::core {

struct JsonLinesFormat {
  std::string_view format;  // the header's "format"
  uint64_t version;         // the header's "format_version" this build reads
  std::string_view hint;    // what to do about a bad file
};

// What the header says besides its format: the dataset's commit and repository name.
struct JsonLinesHeader {
  std::string commit;
  std::string repo_name;
};

// Reads `file`: checks the header's format and version (JsonFields::CheckHeader) and reads its
// fields, then calls `record` for each of the "files" record lines, with a JsonFields whose origin
// is "FILE line N". Errors: the file's own read error (NotFound when absent); FailedPrecondition
// for another format_version; DataLoss for a bad header field, "no final newline (truncated)",
// "not a JSON object", "empty file", "more files than the header lists", "the header lists N
// files but M follow", and what `record` returns.
using JsonLinesReader = std::function<absl::Status(const nlohmann::json&, const JsonFields&)>;
absl::StatusOr<JsonLinesHeader> ReadJsonLines(const std::filesystem::path& file, const JsonLinesFormat& format,
                                              const JsonLinesReader& record);

}  // namespace tune::core

// The held-out files of a dataset as text: what `tune eval` builds its fill-in-the-middle tasks
// from. `tune ingest` writes them beside the shards, redacted exactly as the training text and
// with the repository context a sample of the file would get (training files of the same
// directory, nearest in path order first, within ingest.repo_context_bytes), so an eval prompt
// is laid out as training and serving lay it out, and eval never needs the repository again.
//
// File `heldout.jsonl` (UTF-8, one JSON object per line):
//   line 1   {"format": "tune-heldout", "format_version": 1, "commit": ..., "repo_name": ...,
//             "files": N}
//   N lines  {"path": ..., "language": ..., "text": ..., "context": [{"path": ..., "text": ...}]}
// Only the version of a path at the dataset's commit is listed (history mode mines older ones).
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "absl/status/statusor.h"

namespace tune::data {

inline constexpr int kHeldOutFormatVersion = 1;
inline constexpr char kHeldOutFileName[] = "heldout.jsonl";

struct ContextFile {
  std::string path;
  std::string text;
};

struct HeldOutFile {
  std::string path;
  std::string language;  // DetectLanguage name
  std::string text;      // redacted, as trained on
  std::vector<ContextFile> context;
};

struct HeldOutSet {
  std::string commit;
  std::string repo_name;
  std::vector<HeldOutFile> files;  // in path order
};

// Writes <dir>/heldout.jsonl atomically.
absl::Status WriteHeldOut(const std::filesystem::path& dir, const HeldOutSet& set);

// Reads <dir>/heldout.jsonl. NotFound (with a hint to re-run `tune ingest`) when the dataset
// predates it; FailedPrecondition for another format version; DataLoss naming the line when a
// line is malformed or the file is truncated (fewer lines than its header says).
absl::StatusOr<HeldOutSet> ReadHeldOut(const std::filesystem::path& dir);

}  // namespace tune::data

// The fill-in-the-middle benchmark of `tune eval`: tasks cut from the held-out files of a
// dataset (data/heldout.h: never trained on, near-copies excluded by ingest), deterministic for
// a seed, saved so that base and tuned models are compared on identical tasks across runs.
//
// Task kinds (what an IDE asks for):
//   line   the rest of one line from a cursor inside it (after its indentation)
//   block  2..5 whole consecutive lines
//   node   one syntax node chosen by tree-sitter as ingest does (function body, block,
//          statement, argument list), for languages with a grammar
// Each task is a span [begin, end) of one file's text: prefix = text before it, middle = it,
// suffix = text after it. The file's repository context goes with it as `input_extra`, so the
// prompt is the one `tune serve` builds for an editor (inference/fim_prompt.h).
//
// File `eval-benchmark.json` (UTF-8 JSON):
//   {"format": "tune-eval-benchmark", "format_version": 1, "dataset_commit": ..., "repo_name": ...,
//    "tokenizer_fingerprint": ..., "seed": S, "tasks_per_kind": N,
//    "files": [{"path", "language", "text", "context": [{"path", "text"}]}],
//    "tasks": [{"file": index, "kind": "line"|"block"|"node", "node": SpanKindName or "",
//               "begin": byte, "end": byte, "max_tokens": n}]}
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "data/heldout.h"
#include "tokenizer/tokenizer.h"

namespace tune::eval {

inline constexpr int kBenchmarkFormatVersion = 1;

enum class TaskKind : uint8_t { kLine, kBlock, kNode };
inline constexpr TaskKind kTaskKinds[] = {TaskKind::kLine, TaskKind::kBlock, TaskKind::kNode};
std::string_view TaskKindName(TaskKind kind);

struct Task {
  int32_t file = 0;  // index into Benchmark::files
  TaskKind kind = TaskKind::kLine;
  std::string node;  // the syntax node's kind for kNode ("function", "arguments", ...)
  uint32_t begin = 0, end = 0;  // the middle, as byte offsets into the file's text
  int32_t max_tokens = 0;       // generation limit: min(256, 2 * middle tokens + 8)
};

struct Benchmark {
  std::string dataset_commit;
  std::string repo_name;
  std::string tokenizer_fingerprint;  // of the dataset's tokenizer
  uint64_t seed = 0;
  int32_t tasks_per_kind = 0;
  std::vector<data::HeldOutFile> files;
  std::vector<Task> tasks;  // grouped by language, then kind, in a seeded order

  std::string_view prefix(const Task& t) const;
  std::string_view middle(const Task& t) const;
  std::string_view suffix(const Task& t) const;
};

struct BenchmarkOptions {
  uint64_t seed = 1234;
  int32_t tasks_per_kind = 50;         // per language and kind, at most
  std::vector<std::string> languages;  // empty: every language of the held-out files
};

// Cuts the tasks. `tokenizer` is the dataset's (it sizes max_tokens). InvalidArgument naming the
// language when a requested language has no held-out file, and when no task could be cut at all.
absl::StatusOr<Benchmark> BuildBenchmark(const data::HeldOutSet& heldout,
                                         const tokenizer::Tokenizer& tokenizer,
                                         const BenchmarkOptions& options);

// Atomic write; the reader checks the version, every field's type and every span's bounds
// (DataLoss naming the file and the field; FailedPrecondition for another version).
absl::Status SaveBenchmark(const std::filesystem::path& path, const Benchmark& benchmark);
absl::StatusOr<Benchmark> LoadBenchmark(const std::filesystem::path& path);

}  // namespace tune::eval

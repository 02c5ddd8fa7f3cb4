// LoadBenchmark: `tune eval`'s eval-benchmark.json. An accepted benchmark must have every task's
// middle inside its file's text (prefix + middle + suffix is the file), and must write back and
// read back to the same tasks.
#include "eval/benchmark.h"
#include "fuzz/fuzz_target.h"

TUNE_FUZZ_TARGET(benchmark) {
  const std::filesystem::path path = tune::fuzz::WriteInput("eval-benchmark.json", input);
  absl::StatusOr<tune::eval::Benchmark> b = tune::eval::LoadBenchmark(path);
  if (!b.ok()) return tune::fuzz::CheckError(b.status(), path.string());
  for (const tune::eval::Task& t : b->tasks) {
    TUNE_FUZZ_CHECK(t.file >= 0 && static_cast<size_t>(t.file) < b->files.size());
    const std::string& text = b->files[static_cast<size_t>(t.file)].text;
    TUNE_FUZZ_CHECK(t.begin <= t.end && t.end <= text.size());
    TUNE_FUZZ_CHECK(std::string(b->prefix(t)) + std::string(b->middle(t)) + std::string(b->suffix(t)) == text);
  }
  TUNE_FUZZ_CHECK(tune::eval::SaveBenchmark(path, *b).ok());
  absl::StatusOr<tune::eval::Benchmark> again = tune::eval::LoadBenchmark(path);
  TUNE_FUZZ_CHECK(again.ok() && again->tasks.size() == b->tasks.size() && again->files.size() == b->files.size());
  for (size_t i = 0; i < b->tasks.size(); ++i) {
    TUNE_FUZZ_CHECK(again->middle(again->tasks[i]) == b->middle(b->tasks[i]));
  }
}

// `tune eval`: base and tuned model on the same fill-in-the-middle tasks, scored per language,
// task kind and FIM order, with a paired significance test per group (eval/scoring.h).
//
// Recipe: load or build the benchmark (eval/benchmark.h) -> open each model and check it fits the
// dataset (eval/completer.h) -> complete every task in every FIM order -> score -> held-out loss
// (Hugging Face models) -> aggregate. Reports: eval/report.h.
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "eval/benchmark.h"
#include "eval/completer.h"
#include "eval/scoring.h"

namespace tune::eval {

struct EvalOptions {
  std::filesystem::path dataset;  // a `tune ingest` output directory
  ModelSpec base;
  std::optional<ModelSpec> tuned;
  // Saved tasks; built from the dataset (and saved here) when the file does not exist.
  // Default <dataset>/eval-benchmark.json.
  std::filesystem::path benchmark_path;
  BenchmarkOptions benchmark;
  std::vector<FimOrder> orders = {FimOrder::kPsm, FimOrder::kSpm};
  int64_t max_tasks = 0;  // 0 = all; else about N tasks, spread evenly over languages and kinds
  int32_t threads = 0;
  bool heldout_loss = true;  // for Hugging Face models
  int64_t loss_seq_len = 256;
  int64_t loss_batches = 16;
  bool progress = true;
};

struct TaskResult {
  int32_t task = 0;  // index into Benchmark::tasks
  FimOrder order = FimOrder::kPsm;
  std::string completion;
  bool exact = false;
  double edit_similarity = 0;
  std::optional<bool> parses;  // the completed file parses (only where the original file does)
  double latency_ms = 0;
  int32_t prompt_tokens = 0;
  int32_t generated_tokens = 0;
};

struct ModelResult {
  std::string label;  // "base" | "tuned"
  std::string description;
  std::vector<TaskResult> results;  // per order, in task order
  std::optional<double> heldout_loss;
};

// One line of the table: a language (or "all"), a kind (or "all") and an order.
struct GroupRow {
  std::string language, kind;
  FimOrder order = FimOrder::kPsm;
  int64_t n = 0;
  PairedComparison exact, edit;   // base vs tuned (tuned fields 0 and p = 1 without a tuned model)
  double base_parse = -1, tuned_parse = -1;  // parse rates; -1 where no task could be parsed
  double base_ms = 0, tuned_ms = 0;          // mean latency per task
};

struct EvalReport {
  Benchmark benchmark;
  std::filesystem::path benchmark_path;
  bool benchmark_built = false;  // made (and saved) by this run rather than loaded
  ModelResult base;
  std::optional<ModelResult> tuned;
  std::vector<GroupRow> rows;
};

absl::StatusOr<EvalReport> RunEval(const EvalOptions& options);

// The benchmark at `path` when it exists (checked against the dataset's commit and `tokenizer`,
// the dataset's), else a new one built from the dataset's heldout.jsonl and saved there.
absl::StatusOr<Benchmark> LoadOrBuildBenchmark(const std::filesystem::path& dataset,
                                               const tokenizer::Tokenizer& tokenizer,
                                               const std::filesystem::path& path,
                                               const BenchmarkOptions& options, bool* built);

// Groups rows per language x kind x order, then per language and over everything per order.
std::vector<GroupRow> Aggregate(const Benchmark& benchmark, const ModelResult& base,
                                const std::optional<ModelResult>& tuned, const std::vector<FimOrder>& orders);

}  // namespace tune::eval

// `tune eval`: base and tuned model on the same fill-in-the-middle tasks, scored per language,
// task kind and FIM order, with a paired significance test per group (eval/scoring.h).
//
// Recipe: load or build the benchmark (eval/benchmark.h) -> open each model and check it fits the
// dataset (eval/completer.h) -> complete every task in every FIM order, and again with retrieval
// when asked -> score -> held-out loss (Hugging Face models) -> aggregate. Reports: eval/report.h.
//
// Retrieval arms (--retrieval): each model also completes every task with the dataset's
// retrieval index (retrieval/index.h) searched as `tune serve --index` searches it
// (inference/retrieved_context.h, the task's own file excluded), giving four arms on the same
// tasks: base, base+retrieval, tuned, tuned+retrieval, each compared with base. recall@k: of the
// tasks whose middle uses a name that exactly one chunk, of another file, defines, the share where
// the k chunks retrieved for the cursor include that chunk.
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
#include "retrieval/index.h"

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
  bool retrieval = false;         // add the +retrieval arms (needs the dataset's retrieval.jsonl)
  int32_t retrieval_chunks = 4;   // k
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

// One arm against base over all tasks of one FIM order.
struct ArmRow {
  std::string arm;  // "base+retrieval", "tuned", "tuned+retrieval"
  FimOrder order = FimOrder::kPsm;
  PairedComparison exact, edit;  // base vs the arm
  double ms = 0;                 // the arm's mean latency per task
};

struct RetrievalRecall {
  int32_t k = 0;
  int64_t index_chunks = 0;
  int64_t tasks = 0;  // tasks whose middle uses a name that one chunk of another file defines
  int64_t found = 0;  // of those, tasks where a retrieved chunk defines one of the names
  double recall() const { return tasks > 0 ? static_cast<double>(found) / static_cast<double>(tasks) : 0.0; }
};

struct EvalReport {
  Benchmark benchmark;
  std::filesystem::path benchmark_path;
  bool benchmark_built = false;  // made (and saved) by this run rather than loaded
  ModelResult base;
  std::optional<ModelResult> tuned;
  std::vector<GroupRow> rows;
  // With retrieval: base+retrieval (and tuned+retrieval), the arm rows and recall@k.
  std::vector<ModelResult> retrieval_arms;
  std::vector<ArmRow> arm_rows;
  std::optional<RetrievalRecall> recall;
};

absl::StatusOr<EvalReport> RunEval(const EvalOptions& options);

// The benchmark at `path` when it exists (checked against the dataset's commit and `tokenizer`,
// the dataset's), else a new one built from the dataset's heldout.jsonl and saved there.
absl::StatusOr<Benchmark> LoadOrBuildBenchmark(const std::filesystem::path& dataset,
                                               const tokenizer::Tokenizer& tokenizer,
                                               const std::filesystem::path& path,
                                               const BenchmarkOptions& options, bool* built);

// recall@k of `index` on the benchmark's tasks (see above).
RetrievalRecall MeasureRecall(const Benchmark& benchmark, const retrieval::Index& index, int32_t k);

// Each arm against base, per order, over all tasks.
std::vector<ArmRow> CompareArms(const ModelResult& base, const std::vector<const ModelResult*>& arms,
                                const std::vector<FimOrder>& orders);

// Groups rows per language x kind x order, then per language and over everything per order.
std::vector<GroupRow> Aggregate(const Benchmark& benchmark, const ModelResult& base,
                                const std::optional<ModelResult>& tuned, const std::vector<FimOrder>& orders);

}  // namespace tune::eval

// `tune eval`: base vs tuned model on fill-in-the-middle tasks from a dataset's held-out files
// (eval/run_eval.h); prints the table, writes --json and --report.
#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_format.h"
#include "cli/commands.h"
#include "core/file.h"
#include "core/status.h"
#include "eval/report.h"
#include "eval/run_eval.h"

namespace tune::cli {
namespace {

struct EvalFlags {
  std::string data, base, tuned, benchmark, fim_order = "both", json, report;
  std::vector<std::string> loras, base_loras, languages;
  eval::EvalOptions options;
  bool no_loss = false;
  bool quiet = false;
};

absl::StatusOr<std::vector<eval::FimOrder>> ParseOrders(const std::string& name) {
  if (name == "psm") return std::vector<eval::FimOrder>{eval::FimOrder::kPsm};
  if (name == "spm") return std::vector<eval::FimOrder>{eval::FimOrder::kSpm};
  if (name == "both") return std::vector<eval::FimOrder>{eval::FimOrder::kPsm, eval::FimOrder::kSpm};
  return absl::InvalidArgumentError(absl::StrFormat("--fim-order %s: want psm, spm or both", name));
}

absl::StatusOr<eval::EvalOptions> ToOptions(const EvalFlags& f) {
  eval::EvalOptions o = f.options;
  o.dataset = f.data;
  o.base = {f.base, {}, "base"};
  for (const std::string& l : f.base_loras) o.base.adapters.emplace_back(l);
  if (!f.tuned.empty() || !f.loras.empty()) {
    eval::ModelSpec tuned{f.tuned.empty() ? f.base : f.tuned, {}, "tuned"};
    for (const std::string& l : f.loras) tuned.adapters.emplace_back(l);
    o.tuned = tuned;
  }
  o.benchmark_path = f.benchmark;
  o.benchmark.languages = f.languages;
  TUNE_ASSIGN_OR_RETURN(o.orders, ParseOrders(f.fim_order));
  o.heldout_loss = !f.no_loss;
  o.progress = !f.quiet;
  return o;
}

absl::Status WriteOutputs(const EvalFlags& f, const eval::EvalReport& report) {
  if (!f.quiet) {
    std::fprintf(stderr, "%s %s\n", report.benchmark_built ? "benchmark built and saved to" : "benchmark loaded from",
                 report.benchmark_path.c_str());
  }
  if (f.json == "-") {
    std::fputs(eval::ToJson(report).c_str(), stdout);
  } else {
    std::fputs(eval::FormatTable(report).c_str(), stdout);
    if (!f.json.empty()) TUNE_RETURN_IF_ERROR(core::WriteFileAtomic(f.json, eval::ToJson(report)));
  }
  if (!f.report.empty()) TUNE_RETURN_IF_ERROR(core::WriteFileAtomic(f.report, eval::FormatHtml(report)));
  return absl::OkStatus();
}

absl::Status RunEvalCommand(const EvalFlags& f) {
  TUNE_ASSIGN_OR_RETURN(eval::EvalOptions options, ToOptions(f));
  TUNE_ASSIGN_OR_RETURN(eval::EvalReport report, eval::RunEval(options));
  return WriteOutputs(f, report);
}

}  // namespace

void RegisterEvalCommand(CLI::App& app, absl::Status& result) {
  auto f = std::make_shared<EvalFlags>();
  CLI::App* cmd = app.add_subcommand(
      "eval", "score a base and a tuned model on fill-in-the-middle tasks cut from the dataset's "
              "held-out files, per language, task kind and FIM order, with significance tests");
  cmd->add_option("--data", f->data, "dataset directory from `tune ingest` (its heldout.jsonl)")->required();
  cmd->add_option("--base", f->base, "base model: a .gguf file or a Hugging Face directory")->required();
  cmd->add_option("--tuned", f->tuned, "tuned model: a .gguf file or a Hugging Face directory");
  cmd->add_option("--lora", f->loras,
                  "adapter for the tuned side (on --tuned, else on --base): GGUF LoRA files for a "
                  ".gguf model (repeatable), one PEFT directory for a Hugging Face model");
  cmd->add_option("--base-lora", f->base_loras,
                  "adapter for the base side, as --lora (compare two adapters of one base model)");
  cmd->add_option("--benchmark", f->benchmark,
                  "saved tasks; built from the dataset and saved here when absent "
                  "(default: DATA/eval-benchmark.json)");
  cmd->add_option("--fim-order", f->fim_order, "psm, spm or both")->capture_default_str();
  cmd->add_option("--languages", f->languages, "only these languages (e.g. python,cpp)")->delimiter(',');
  cmd->add_option("--tasks-per-kind", f->options.benchmark.tasks_per_kind,
                  "tasks per language and kind when building the benchmark")
      ->capture_default_str()
      ->check(CLI::Range(1, 100000));
  cmd->add_option("--seed", f->options.benchmark.seed, "seed of the task draw when building the benchmark")
      ->capture_default_str();
  cmd->add_option("--max-tasks", f->options.max_tasks,
                  "evaluate about N tasks, spread over languages and kinds (0: all)")
      ->capture_default_str()
      ->check(CLI::NonNegativeNumber);
  cmd->add_option("--threads", f->options.threads, "CPU threads (0: all cores)")->capture_default_str();
  cmd->add_flag("--retrieval", f->options.retrieval,
                "also run every model with the dataset's retrieval index, as `tune serve --index` does "
                "(arms base, base+retrieval, tuned, tuned+retrieval; recall@k)");
  cmd->add_option("--retrieval-chunks", f->options.retrieval_chunks, "index chunks per task with --retrieval")
      ->check(CLI::Range(1, 64))
      ->capture_default_str();
  cmd->add_flag("--no-loss", f->no_loss, "skip held-out loss and perplexity (Hugging Face models)");
  cmd->add_option("--json", f->json, "write the full results as JSON to this file ('-': stdout, no table)");
  cmd->add_option("--report", f->report, "write a one-page HTML report with a chart to this file");
  cmd->add_flag("--quiet", f->quiet, "no progress output");
  cmd->callback([f, &result] { result = RunEvalCommand(*f); });
}

}  // namespace tune::cli

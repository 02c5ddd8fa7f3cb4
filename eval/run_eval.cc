#include "eval/run_eval.h"

#include <map>
#include <numeric>
#include <set>
#include <tuple>

#include "absl/strings/str_format.h"
#include "core/status.h"
#include "data/dataset.h"
#include "data/heldout.h"
#include "data/progress.h"
#include "data/syntax_spans.h"
#include "inference/retrieved_context.h"
#include "retrieval/terms.h"

namespace tune::eval {
namespace {

absl::StatusOr<std::unique_ptr<tokenizer::Tokenizer>> DatasetTokenizer(const std::filesystem::path& dataset) {
  TUNE_ASSIGN_OR_RETURN(data::DatasetManifest manifest, data::ReadManifest(dataset));
  absl::StatusOr<std::unique_ptr<tokenizer::Tokenizer>> t = tokenizer::Tokenizer::Load(manifest.tokenizer_path);
  if (!t.ok()) {
    return core::Annotate(t.status(), absl::StrFormat("the tokenizer of dataset %s (manifest.json "
                                                      "tokenizer_path)", dataset.string()));
  }
  return t;
}

// The first tasks of every (language, kind) group, so that about `max_tasks` remain.
void KeepAbout(Benchmark& b, int64_t max_tasks) {
  if (max_tasks <= 0 || static_cast<int64_t>(b.tasks.size()) <= max_tasks) return;
  std::map<std::pair<std::string, TaskKind>, int64_t> kept;
  for (const Task& t : b.tasks) kept[{b.files[t.file].language, t.kind}] = 0;
  const int64_t per_group = std::max<int64_t>(1, max_tasks / static_cast<int64_t>(kept.size()));
  std::vector<Task> tasks;
  for (Task& t : b.tasks) {
    if (kept[{b.files[t.file].language, t.kind}]++ < per_group) tasks.push_back(std::move(t));
  }
  b.tasks = std::move(tasks);
}

// Whether each benchmark file parses as it is (the parse metric only counts where it does).
std::vector<bool> OriginalsParse(const Benchmark& b) {
  std::vector<bool> out;
  for (const data::HeldOutFile& f : b.files) {
    absl::StatusOr<bool> ok = data::HasGrammar(f.language) ? data::ParsesCleanly(f.language, f.text)
                                                            : absl::StatusOr<bool>(false);
    out.push_back(ok.ok() && *ok);
  }
  return out;
}

TaskResult Score(const Benchmark& b, int32_t index, FimOrder order, Completion c, bool original_parses) {
  const Task& t = b.tasks[static_cast<size_t>(index)];
  TaskResult r;
  r.task = index;
  r.order = order;
  r.exact = ExactMatch(b.middle(t), c.text);
  r.edit_similarity = EditSimilarity(b.middle(t), c.text);
  r.latency_ms = c.latency_ms;
  r.prompt_tokens = c.prompt_tokens;
  r.generated_tokens = c.generated_tokens;
  if (original_parses) {
    const std::string completed = std::string(b.prefix(t)) + c.text + std::string(b.suffix(t));
    absl::StatusOr<bool> parses = data::ParsesCleanly(b.files[t.file].language, completed);
    if (parses.ok()) r.parses = *parses;
  }
  r.completion = std::move(c.text);
  return r;
}

// The model's results on every task, without retrieval and, given an index, with it: one
// completer serves both arms.
absl::StatusOr<std::vector<ModelResult>> RunModel(const EvalOptions& options, const ModelSpec& spec,
                                                  const Benchmark& b, const tokenizer::Tokenizer& dataset_tokenizer,
                                                  const std::vector<bool>& originals_parse,
                                                  const retrieval::Index* index, data::Progress& progress) {
  TUNE_ASSIGN_OR_RETURN(std::unique_ptr<Completer> completer, OpenCompleter(spec, b.repo_name, options.threads));
  TUNE_RETURN_IF_ERROR(CheckCompatible(*completer, spec, dataset_tokenizer));
  std::vector<ModelResult> arms(index != nullptr ? 2 : 1);
  for (size_t a = 0; a < arms.size(); ++a) {
    arms[a].label = a == 0 ? spec.label : spec.label + "+retrieval";
    arms[a].description = completer->description() + (a == 0 ? "" : " + retrieval");
  }
  for (FimOrder order : options.orders) {
    for (int32_t i = 0; i < static_cast<int32_t>(b.tasks.size()); ++i) {
      const Task& t = b.tasks[static_cast<size_t>(i)];
      for (size_t a = 0; a < arms.size(); ++a) {
        inference::CompletionRequest request = TaskRequest(b, t, order);
        if (a == 1) inference::AddRetrievedChunks(*index, options.retrieval_chunks, request);
        absl::StatusOr<Completion> c = completer->Complete(request);
        if (!c.ok()) {
          return core::Annotate(c.status(), absl::StrFormat("--%s (%s), task %d (%s %s)", spec.label, arms[a].label,
                                                            i, b.files[t.file].path, TaskKindName(t.kind)));
        }
        arms[a].results.push_back(Score(b, i, order, std::move(*c), originals_parse[static_cast<size_t>(t.file)]));
        progress.Add(1, 0);
      }
    }
  }
  if (options.heldout_loss && !spec.is_gguf()) {
    TUNE_ASSIGN_OR_RETURN(double loss, completer->HeldOutLoss(options.dataset, options.loss_seq_len,
                                                              options.loss_batches));
    arms[0].heldout_loss = loss;
  }
  return arms;
}

// The dataset's retrieval index, from the same commit as the benchmark.
absl::StatusOr<retrieval::Index> DatasetIndex(const EvalOptions& options, const Benchmark& b) {
  absl::StatusOr<retrieval::Index> index = retrieval::Index::Read(options.dataset);
  if (!index.ok()) return core::Annotate(index.status(), "--retrieval");
  if (index->commit() != b.dataset_commit) {
    return absl::FailedPreconditionError(absl::StrFormat(
        "--retrieval: the index of %s is from commit %s, the benchmark from %s; hint: evaluate the "
        "dataset the benchmark was built from", options.dataset.string(), index->commit(), b.dataset_commit));
  }
  return index;
}

struct GroupKey {
  std::string language, kind;
  FimOrder order;
  auto operator<=>(const GroupKey&) const = default;
};

double MeanOf(const std::vector<double>& v) {
  return v.empty() ? 0.0 : std::accumulate(v.begin(), v.end(), 0.0) / static_cast<double>(v.size());
}

struct GroupScores {
  std::vector<double> exact[2], edit[2], ms[2];
  int64_t parsed[2] = {0, 0}, parse_ok[2] = {0, 0};
};

void AddScore(GroupScores& g, int side, const TaskResult& r) {
  g.exact[side].push_back(r.exact ? 1.0 : 0.0);
  g.edit[side].push_back(r.edit_similarity);
  g.ms[side].push_back(r.latency_ms);
  if (r.parses) {
    ++g.parsed[side];
    g.parse_ok[side] += *r.parses;
  }
}

GroupRow MakeRow(const GroupKey& key, const GroupScores& g, bool has_tuned) {
  GroupRow row;
  row.language = key.language;
  row.kind = key.kind;
  row.order = key.order;
  row.n = static_cast<int64_t>(g.exact[0].size());
  const int tuned = has_tuned ? 1 : 0;
  row.exact = ComparePaired(g.exact[0], has_tuned ? g.exact[1] : g.exact[0], /*binary=*/true);
  row.edit = ComparePaired(g.edit[0], has_tuned ? g.edit[1] : g.edit[0], /*binary=*/false);
  row.base_parse = g.parsed[0] ? static_cast<double>(g.parse_ok[0]) / static_cast<double>(g.parsed[0]) : -1;
  row.tuned_parse = g.parsed[tuned] ? static_cast<double>(g.parse_ok[tuned]) / static_cast<double>(g.parsed[tuned]) : -1;
  row.base_ms = MeanOf(g.ms[0]);
  row.tuned_ms = MeanOf(g.ms[tuned]);
  return row;
}

}  // namespace

std::vector<GroupRow> Aggregate(const Benchmark& b, const ModelResult& base,
                                const std::optional<ModelResult>& tuned, const std::vector<FimOrder>& orders) {
  std::map<GroupKey, GroupScores> groups;
  const ModelResult* sides[2] = {&base, tuned ? &*tuned : nullptr};
  for (int side = 0; side < 2; ++side) {
    if (sides[side] == nullptr) continue;
    for (const TaskResult& r : sides[side]->results) {
      const Task& t = b.tasks[static_cast<size_t>(r.task)];
      const std::string& language = b.files[t.file].language;
      const std::string kind(TaskKindName(t.kind));
      for (const GroupKey& key : {GroupKey{language, kind, r.order}, GroupKey{language, "all", r.order},
                                  GroupKey{"all", "all", r.order}}) {
        AddScore(groups[key], side, r);
      }
    }
  }
  std::vector<GroupRow> rows;
  for (FimOrder order : orders) {
    for (const auto& [key, scores] : groups) {
      if (key.order == order) rows.push_back(MakeRow(key, scores, tuned.has_value()));
    }
  }
  return rows;
}

RetrievalRecall MeasureRecall(const Benchmark& b, const retrieval::Index& index, int32_t k) {
  RetrievalRecall recall;
  recall.k = k;
  recall.index_chunks = static_cast<int64_t>(index.num_chunks());
  for (const Task& t : b.tasks) {
    const std::string& path = b.files[static_cast<size_t>(t.file)].path;
    // Names the middle uses that exactly one chunk defines, in another file: `size` defined by
    // five classes has no one defining chunk to find.
    std::set<std::string> needed;
    for (std::string_view id : retrieval::Identifiers(b.middle(t))) {
      const std::vector<std::pair<uint32_t, uint32_t>> defs = index.Defining(id);
      if (defs.size() == 1 && index.files()[defs[0].first].path != path) needed.insert(std::string(id));
    }
    if (needed.empty()) continue;
    ++recall.tasks;
    retrieval::Query query = retrieval::CursorQuery(b.prefix(t), b.suffix(t));
    query.exclude_path = path;
    query.k = k;
    for (const retrieval::Hit& hit : index.Search(query)) {
      const std::vector<std::string>& defines = index.chunk(hit).defines;
      if (std::any_of(defines.begin(), defines.end(), [&](const std::string& d) { return needed.count(d) > 0; })) {
        ++recall.found;
        break;
      }
    }
  }
  return recall;
}

std::vector<ArmRow> CompareArms(const ModelResult& base, const std::vector<const ModelResult*>& arms,
                                const std::vector<FimOrder>& orders) {
  std::vector<ArmRow> rows;
  for (FimOrder order : orders) {
    for (const ModelResult* arm : arms) {
      GroupScores g;
      for (size_t i = 0; i < base.results.size(); ++i) {
        if (base.results[i].order != order) continue;
        AddScore(g, 0, base.results[i]);
        AddScore(g, 1, arm->results[i]);
      }
      rows.push_back({arm->label, order, ComparePaired(g.exact[0], g.exact[1], /*binary=*/true),
                      ComparePaired(g.edit[0], g.edit[1], /*binary=*/false), MeanOf(g.ms[1])});
    }
  }
  return rows;
}

absl::StatusOr<Benchmark> LoadOrBuildBenchmark(const std::filesystem::path& dataset,
                                               const tokenizer::Tokenizer& tokenizer,
                                               const std::filesystem::path& path,
                                               const BenchmarkOptions& options, bool* built) {
  TUNE_ASSIGN_OR_RETURN(data::DatasetManifest manifest, data::ReadManifest(dataset));
  *built = !std::filesystem::exists(path);
  if (*built) {
    TUNE_ASSIGN_OR_RETURN(data::HeldOutSet heldout, data::ReadHeldOut(dataset));
    TUNE_ASSIGN_OR_RETURN(Benchmark b, BuildBenchmark(heldout, tokenizer, options));
    TUNE_RETURN_IF_ERROR(SaveBenchmark(path, b));
    return b;
  }
  TUNE_ASSIGN_OR_RETURN(Benchmark b, LoadBenchmark(path));
  if (b.dataset_commit != manifest.commit || b.tokenizer_fingerprint != tokenizer.Fingerprint()) {
    return absl::FailedPreconditionError(absl::StrFormat(
        "--benchmark %s was built from commit %s with tokenizer %s, the dataset %s is at commit %s "
        "with tokenizer %s; hint: to compare on the saved tasks, evaluate the dataset they came "
        "from; to build new tasks, pass a new --benchmark path or delete this file",
        path.string(), b.dataset_commit, b.tokenizer_fingerprint, dataset.string(), manifest.commit,
        tokenizer.Fingerprint()));
  }
  return b;
}

absl::StatusOr<EvalReport> RunEval(const EvalOptions& options) {
  EvalReport report;
  report.benchmark_path = options.benchmark_path.empty() ? options.dataset / "eval-benchmark.json"
                                                         : options.benchmark_path;
  TUNE_ASSIGN_OR_RETURN(std::unique_ptr<tokenizer::Tokenizer> tokenizer, DatasetTokenizer(options.dataset));
  TUNE_ASSIGN_OR_RETURN(report.benchmark, LoadOrBuildBenchmark(options.dataset, *tokenizer, report.benchmark_path,
                                                                options.benchmark, &report.benchmark_built));
  Benchmark& b = report.benchmark;
  KeepAbout(b, options.max_tasks);
  if (!options.benchmark.languages.empty()) {
    std::vector<Task> kept;
    for (Task& t : b.tasks) {
      const std::string& language = b.files[t.file].language;
      if (std::count(options.benchmark.languages.begin(), options.benchmark.languages.end(), language)) {
        kept.push_back(std::move(t));
      }
    }
    b.tasks = std::move(kept);
    if (b.tasks.empty()) {
      return absl::InvalidArgumentError(absl::StrFormat(
          "--languages: benchmark %s has no task in the languages asked for; hint: pass a new "
          "--benchmark path to build one for them", report.benchmark_path.string()));
    }
  }
  const std::vector<bool> originals_parse = OriginalsParse(b);
  std::optional<retrieval::Index> index;
  if (options.retrieval) {
    TUNE_ASSIGN_OR_RETURN(index, DatasetIndex(options, b));
    report.recall = MeasureRecall(b, *index, options.retrieval_chunks);
  }
  const uint64_t total = b.tasks.size() * options.orders.size() * (options.tuned ? 2 : 1) * (index ? 2 : 1);
  data::Progress progress("eval", total, options.progress, "tasks");
  const retrieval::Index* searched = index ? &*index : nullptr;
  TUNE_ASSIGN_OR_RETURN(std::vector<ModelResult> base,
                        RunModel(options, options.base, b, *tokenizer, originals_parse, searched, progress));
  report.base = std::move(base[0]);
  if (index) report.retrieval_arms.push_back(std::move(base[1]));
  if (options.tuned) {
    TUNE_ASSIGN_OR_RETURN(std::vector<ModelResult> tuned,
                          RunModel(options, *options.tuned, b, *tokenizer, originals_parse, searched, progress));
    report.tuned = std::move(tuned[0]);
    if (index) report.retrieval_arms.push_back(std::move(tuned[1]));
  }
  progress.Finish();
  report.rows = Aggregate(b, report.base, report.tuned, options.orders);
  if (index) {
    std::vector<const ModelResult*> arms = {&report.retrieval_arms[0]};
    if (report.tuned) arms.insert(arms.end(), {&*report.tuned, &report.retrieval_arms[1]});
    report.arm_rows = CompareArms(report.base, arms, options.orders);
  }
  return report;
}

}  // namespace tune::eval

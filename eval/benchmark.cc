#include "eval/benchmark.h"

#include <algorithm>
#include <map>
#include <random>
#include <set>
#include <utility>

#include <nlohmann/json.hpp>

#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "core/file.h"
#include "core/json_fields.h"
#include "core/status.h"
#include "data/syntax_spans.h"

namespace tune::eval {
namespace {

using nlohmann::json;

constexpr int kCandidatesPerFile = 4;  // per kind: spreads a kind's tasks over many files
constexpr int kAttempts = 16;          // random draws per candidate before giving up on a file
constexpr uint32_t kMinNodeBytes = 16, kMaxNodeBytes = 400;
constexpr int32_t kMaxTokens = 256;

struct Line {
  uint32_t begin, end;  // end excludes the newline
};

std::vector<Line> SplitLines(std::string_view text) {
  std::vector<Line> lines;
  uint32_t start = 0;
  for (uint32_t i = 0; i <= text.size(); ++i) {
    if (i == text.size() || text[i] == '\n') {
      lines.push_back({start, i});
      start = i + 1;
    }
  }
  return lines;
}

size_t NonBlankBytes(std::string_view s) {
  return static_cast<size_t>(std::count_if(s.begin(), s.end(), [](char c) {
    return c != ' ' && c != '\t' && c != '\n' && c != '\r';
  }));
}

Task MakeTask(TaskKind kind, std::string node, uint32_t begin, uint32_t end) {
  Task t;
  t.kind = kind;
  t.node = std::move(node);
  t.begin = begin;
  t.end = end;
  return t;
}

uint32_t Uniform(std::mt19937_64& rng, uint32_t lo, uint32_t hi) {  // inclusive
  return std::uniform_int_distribution<uint32_t>(lo, hi)(rng);
}

// The rest of a line from a cursor in its first half, after the indentation.
std::optional<Task> DrawLine(std::string_view text, const std::vector<Line>& lines, std::mt19937_64& rng) {
  for (int attempt = 0; attempt < kAttempts; ++attempt) {
    const Line& l = lines[Uniform(rng, 0, static_cast<uint32_t>(lines.size() - 1))];
    std::string_view line = text.substr(l.begin, l.end - l.begin);
    if (NonBlankBytes(line) < 8) continue;
    uint32_t cursor = l.begin + static_cast<uint32_t>(line.find_first_not_of(" \t"));
    cursor += Uniform(rng, 0, (l.end - cursor) / 2);
    while (cursor < l.end && (static_cast<unsigned char>(text[cursor]) & 0xC0) == 0x80) ++cursor;
    if (NonBlankBytes(text.substr(cursor, l.end - cursor)) < 4) continue;
    return MakeTask(TaskKind::kLine, "", cursor, l.end);
  }
  return std::nullopt;
}

// 2..5 whole lines.
std::optional<Task> DrawBlock(std::string_view text, const std::vector<Line>& lines, std::mt19937_64& rng) {
  if (lines.size() < 3) return std::nullopt;
  for (int attempt = 0; attempt < kAttempts; ++attempt) {
    const uint32_t n = Uniform(rng, 2, 5);
    if (n >= lines.size()) continue;
    const uint32_t first = Uniform(rng, 0, static_cast<uint32_t>(lines.size() - n));
    const uint32_t begin = lines[first].begin, end = lines[first + n - 1].end;
    if (NonBlankBytes(text.substr(begin, end - begin)) < 16) continue;
    return MakeTask(TaskKind::kBlock, "", begin, end);
  }
  return std::nullopt;
}

// One syntax node of ingest's kinds, expressions left out (a line task covers them).
std::optional<Task> DrawNode(const std::vector<data::SyntaxSpan>& spans, std::mt19937_64& rng) {
  if (spans.empty()) return std::nullopt;
  const data::SyntaxSpan& s = spans[Uniform(rng, 0, static_cast<uint32_t>(spans.size() - 1))];
  return MakeTask(TaskKind::kNode, std::string(data::SpanKindName(s.kind)), s.begin, s.end);
}

// Up to kCandidatesPerFile distinct tasks of each kind from one file.
std::vector<Task> FileCandidates(const data::HeldOutFile& file, std::mt19937_64& rng) {
  const std::vector<Line> lines = SplitLines(file.text);
  std::vector<data::SyntaxSpan> spans;
  if (data::HasGrammar(file.language)) {
    absl::StatusOr<std::vector<data::SyntaxSpan>> found =
        data::FindSyntaxSpans(file.language, file.text, kMinNodeBytes, kMaxNodeBytes);
    if (found.ok()) {
      for (const data::SyntaxSpan& s : *found) {
        if (s.kind != data::SpanKind::kExpression) spans.push_back(s);
      }
    }
  }
  std::vector<Task> out;
  for (TaskKind kind : kTaskKinds) {
    std::set<std::pair<uint32_t, uint32_t>> seen;
    for (int i = 0; i < kCandidatesPerFile; ++i) {
      std::optional<Task> t = kind == TaskKind::kLine    ? DrawLine(file.text, lines, rng)
                              : kind == TaskKind::kBlock ? DrawBlock(file.text, lines, rng)
                                                         : DrawNode(spans, rng);
      if (t && seen.insert({t->begin, t->end}).second) out.push_back(std::move(*t));
    }
  }
  return out;
}

bool Wanted(const BenchmarkOptions& options, const std::string& language) {
  return options.languages.empty() ||
         std::find(options.languages.begin(), options.languages.end(), language) != options.languages.end();
}

absl::Status CheckLanguagesPresent(const data::HeldOutSet& heldout, const BenchmarkOptions& options) {
  std::set<std::string> present;
  for (const data::HeldOutFile& f : heldout.files) present.insert(f.language);
  for (const std::string& language : options.languages) {
    if (!present.count(language)) {
      return absl::InvalidArgumentError(absl::StrFormat(
          "--languages: the dataset has no held-out %s file (held-out languages: %s); hint: choose "
          "among those, or re-run `tune ingest` with a larger ingest.eval_fraction",
          language, present.empty() ? "none" : absl::StrJoin(present, ", ")));
    }
  }
  return absl::OkStatus();
}

}  // namespace

std::string_view TaskKindName(TaskKind kind) {
  switch (kind) {
    case TaskKind::kLine:
      return "line";
    case TaskKind::kBlock:
      return "block";
    case TaskKind::kNode:
      return "node";
  }
  return "unknown";
}

std::string_view Benchmark::prefix(const Task& t) const {
  return std::string_view(files[t.file].text).substr(0, t.begin);
}
std::string_view Benchmark::middle(const Task& t) const {
  return std::string_view(files[t.file].text).substr(t.begin, t.end - t.begin);
}
std::string_view Benchmark::suffix(const Task& t) const {
  return std::string_view(files[t.file].text).substr(t.end);
}

absl::StatusOr<Benchmark> BuildBenchmark(const data::HeldOutSet& heldout,
                                         const tokenizer::Tokenizer& tokenizer,
                                         const BenchmarkOptions& options) {
  TUNE_RETURN_IF_ERROR(CheckLanguagesPresent(heldout, options));
  std::mt19937_64 rng(options.seed);
  // (language, kind) -> candidates, each with the index of its held-out file.
  std::map<std::pair<std::string, TaskKind>, std::vector<std::pair<int32_t, Task>>> groups;
  for (size_t i = 0; i < heldout.files.size(); ++i) {
    const data::HeldOutFile& file = heldout.files[i];
    if (!Wanted(options, file.language) || file.text.empty()) continue;
    for (Task& t : FileCandidates(file, rng)) {
      groups[{file.language, t.kind}].emplace_back(static_cast<int32_t>(i), std::move(t));
    }
  }
  Benchmark b;
  b.dataset_commit = heldout.commit;
  b.repo_name = heldout.repo_name;
  b.tokenizer_fingerprint = tokenizer.Fingerprint();
  b.seed = options.seed;
  b.tasks_per_kind = options.tasks_per_kind;
  std::map<int32_t, int32_t> file_index;  // held-out index -> benchmark index
  for (auto& [key, candidates] : groups) {
    std::shuffle(candidates.begin(), candidates.end(), rng);
    candidates.resize(std::min<size_t>(candidates.size(), static_cast<size_t>(options.tasks_per_kind)));
    for (auto& [held_out_index, task] : candidates) {
      auto [it, added] = file_index.emplace(held_out_index, static_cast<int32_t>(b.files.size()));
      if (added) b.files.push_back(heldout.files[static_cast<size_t>(held_out_index)]);
      task.file = it->second;
      const size_t middle_tokens = tokenizer.Encode(b.middle(task)).size();
      task.max_tokens = static_cast<int32_t>(std::min<size_t>(kMaxTokens, 2 * middle_tokens + 8));
      b.tasks.push_back(std::move(task));
    }
  }
  if (b.tasks.empty()) {
    return absl::InvalidArgumentError(
        "the benchmark is empty: the dataset's held-out files yield no task (no held-out file with "
        "a line of code); hint: re-run `tune ingest` with a larger ingest.eval_fraction");
  }
  return b;
}

// ---- file format ----

namespace {

json FileToJson(const data::HeldOutFile& f) {
  json context = json::array();
  for (const data::ContextFile& c : f.context) context.push_back({{"path", c.path}, {"text", c.text}});
  return {{"path", f.path}, {"language", f.language}, {"text", f.text}, {"context", context}};
}

json TaskToJson(const Task& t) {
  return {{"file", t.file},   {"kind", TaskKindName(t.kind)}, {"node", t.node},
          {"begin", t.begin}, {"end", t.end},                  {"max_tokens", t.max_tokens}};
}

// Typed field access that names the file and the field on a mismatch.
core::JsonFields BenchmarkFields(const std::filesystem::path& path) {
  return core::JsonFields(path.string(), "delete the file and run `tune eval` again to rebuild the benchmark");
}

absl::StatusOr<data::HeldOutFile> ParseFile(const core::JsonFields& r, const json& j, const std::string& where) {
  if (!j.is_object()) return r.Error(where, "is not an object");
  data::HeldOutFile f;
  TUNE_ASSIGN_OR_RETURN(f.path, r.String(j, "path", where));
  TUNE_ASSIGN_OR_RETURN(f.language, r.String(j, "language", where));
  TUNE_ASSIGN_OR_RETURN(f.text, r.String(j, "text", where));
  TUNE_ASSIGN_OR_RETURN(const json* context, r.Field(j, "context", json::value_t::array, where));
  for (size_t i = 0; i < context->size(); ++i) {
    const std::string at = absl::StrFormat("%scontext[%d].", where, i);
    if (!(*context)[i].is_object()) return r.Error(at, "is not an object");
    data::ContextFile c;
    TUNE_ASSIGN_OR_RETURN(c.path, r.String((*context)[i], "path", at));
    TUNE_ASSIGN_OR_RETURN(c.text, r.String((*context)[i], "text", at));
    f.context.push_back(std::move(c));
  }
  return f;
}

absl::StatusOr<Task> ParseTask(const core::JsonFields& r, const json& j, const std::string& where,
                               const std::vector<data::HeldOutFile>& files) {
  if (!j.is_object()) return r.Error(where, "is not an object");
  if (files.empty()) return r.Error(where + "file", "no file to refer to");
  Task t;
  TUNE_ASSIGN_OR_RETURN(uint64_t file, r.Unsigned(j, "file", files.size() - 1, where));
  t.file = static_cast<int32_t>(file);
  TUNE_ASSIGN_OR_RETURN(std::string kind, r.String(j, "kind", where));
  auto named = std::find_if(std::begin(kTaskKinds), std::end(kTaskKinds),
                            [&](TaskKind k) { return TaskKindName(k) == kind; });
  if (named == std::end(kTaskKinds)) return r.Error(where + "kind", "is not line, block or node");
  t.kind = *named;
  TUNE_ASSIGN_OR_RETURN(t.node, r.String(j, "node", where));
  const uint64_t size = files[file].text.size();
  TUNE_ASSIGN_OR_RETURN(uint64_t begin, r.Unsigned(j, "begin", size, where));
  TUNE_ASSIGN_OR_RETURN(uint64_t end, r.Unsigned(j, "end", size, where));
  if (end <= begin) return r.Error(where + "end", "is not after begin");
  TUNE_ASSIGN_OR_RETURN(uint64_t max_tokens, r.Unsigned(j, "max_tokens", 1 << 20, where));
  if (max_tokens == 0) return r.Error(where + "max_tokens", "is 0");
  t.begin = static_cast<uint32_t>(begin);
  t.end = static_cast<uint32_t>(end);
  t.max_tokens = static_cast<int32_t>(max_tokens);
  return t;
}

}  // namespace

absl::Status SaveBenchmark(const std::filesystem::path& path, const Benchmark& b) {
  json files = json::array(), tasks = json::array();
  for (const data::HeldOutFile& f : b.files) files.push_back(FileToJson(f));
  for (const Task& t : b.tasks) tasks.push_back(TaskToJson(t));
  json j = {{"format", "tune-eval-benchmark"},
            {"format_version", kBenchmarkFormatVersion},
            {"dataset_commit", b.dataset_commit},
            {"repo_name", b.repo_name},
            {"tokenizer_fingerprint", b.tokenizer_fingerprint},
            {"seed", b.seed},
            {"tasks_per_kind", b.tasks_per_kind},
            {"files", files},
            {"tasks", tasks}};
  return core::WriteFileAtomic(path, j.dump(1, ' ', false, json::error_handler_t::replace) + "\n");
}

absl::StatusOr<Benchmark> LoadBenchmark(const std::filesystem::path& path) {
  TUNE_ASSIGN_OR_RETURN(std::string text, core::ReadFile(path));
  const core::JsonFields r = BenchmarkFields(path);
  json j = json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (!j.is_object()) return r.Error("(top level)", "is not a JSON object (truncated or not a benchmark)");
  TUNE_RETURN_IF_ERROR(r.CheckHeader(j, "tune-eval-benchmark", kBenchmarkFormatVersion));
  Benchmark b;
  TUNE_ASSIGN_OR_RETURN(b.dataset_commit, r.String(j, "dataset_commit"));
  TUNE_ASSIGN_OR_RETURN(b.repo_name, r.String(j, "repo_name"));
  TUNE_ASSIGN_OR_RETURN(b.tokenizer_fingerprint, r.String(j, "tokenizer_fingerprint"));
  TUNE_ASSIGN_OR_RETURN(b.seed, r.Unsigned(j, "seed", UINT64_MAX));
  TUNE_ASSIGN_OR_RETURN(uint64_t per_kind, r.Unsigned(j, "tasks_per_kind", INT32_MAX));
  b.tasks_per_kind = static_cast<int32_t>(per_kind);
  TUNE_ASSIGN_OR_RETURN(const json* files, r.Field(j, "files", json::value_t::array));
  for (size_t i = 0; i < files->size(); ++i) {
    TUNE_ASSIGN_OR_RETURN(data::HeldOutFile f, ParseFile(r, (*files)[i], absl::StrFormat("files[%d].", i)));
    b.files.push_back(std::move(f));
  }
  TUNE_ASSIGN_OR_RETURN(const json* tasks, r.Field(j, "tasks", json::value_t::array));
  for (size_t i = 0; i < tasks->size(); ++i) {
    TUNE_ASSIGN_OR_RETURN(Task t, ParseTask(r, (*tasks)[i], absl::StrFormat("tasks[%d].", i), b.files));
    b.tasks.push_back(std::move(t));
  }
  if (b.tasks.empty()) return r.Error("tasks", "is empty");
  return b;
}

}  // namespace tune::eval

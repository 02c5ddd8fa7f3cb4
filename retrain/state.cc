#include "retrain/state.h"

#include <algorithm>

#include <nlohmann/json.hpp>

#include "absl/strings/str_format.h"
#include "core/file.h"
#include "core/json_fields.h"
#include "core/status.h"

namespace tune::retrain {
namespace {

using nlohmann::json;


json ScoresJson(const std::optional<Scores>& s) {
  if (!s) return nullptr;
  return {{"exact_match", s->exact_match}, {"edit_similarity", s->edit_similarity}};
}

json RunJson(const RunRecord& r) {
  return {{"id", r.id},           {"commit", r.commit},   {"started", r.started},
          {"finished", r.finished}, {"outcome", r.outcome}, {"reason", r.reason},
          {"stage", r.stage},     {"candidate", ScoresJson(r.candidate)},
          {"served", ScoresJson(r.served)}, {"served_id", r.served_id}};
}

core::JsonFields StateFields(const std::filesystem::path& file) {
  return core::JsonFields(file.string(),
                          "fix or move the file away (a new state starts from the next commit with nothing served)");
}

absl::StatusOr<std::optional<Scores>> ParseScores(const json& j, const char* key, const core::JsonFields& f,
                                                  const std::string& where) {
  if (!core::JsonFields::Has(j, key)) return std::optional<Scores>();
  const json& scores = *j.find(key);
  const std::string at = where + key + ".";
  TUNE_ASSIGN_OR_RETURN(double exact, f.Number(scores, "exact_match", 0, 1, at));
  TUNE_ASSIGN_OR_RETURN(double edit, f.Number(scores, "edit_similarity", 0, 1, at));
  return std::optional<Scores>(Scores{exact, edit});
}

absl::StatusOr<RunRecord> ParseRun(const json& j, const core::JsonFields& f, const std::string& where) {
  RunRecord r;
  TUNE_ASSIGN_OR_RETURN(r.id, f.String(j, "id", where));
  TUNE_ASSIGN_OR_RETURN(r.commit, f.String(j, "commit", where));
  TUNE_ASSIGN_OR_RETURN(r.started, f.String(j, "started", where));
  TUNE_ASSIGN_OR_RETURN(r.finished, f.String(j, "finished", where));
  TUNE_ASSIGN_OR_RETURN(r.outcome, f.String(j, "outcome", where));
  TUNE_ASSIGN_OR_RETURN(r.reason, f.String(j, "reason", where));
  TUNE_ASSIGN_OR_RETURN(r.stage, f.String(j, "stage", where));
  TUNE_ASSIGN_OR_RETURN(r.served_id, f.String(j, "served_id", where));
  TUNE_ASSIGN_OR_RETURN(r.candidate, ParseScores(j, "candidate", f, where));
  TUNE_ASSIGN_OR_RETURN(r.served, ParseScores(j, "served", f, where));
  return r;
}

absl::StatusOr<std::optional<PendingRun>> ParsePending(const json& j, const core::JsonFields& f) {
  if (!core::JsonFields::Has(j, "pending")) return std::optional<PendingRun>();
  const json& pending = *j.find("pending");
  PendingRun p;
  TUNE_ASSIGN_OR_RETURN(p.id, f.String(pending, "id", "pending."));
  TUNE_ASSIGN_OR_RETURN(p.commit, f.String(pending, "commit", "pending."));
  TUNE_ASSIGN_OR_RETURN(p.started, f.String(pending, "started", "pending."));
  TUNE_ASSIGN_OR_RETURN(std::string stage, f.String(pending, "stage", "pending."));
  std::optional<Stage> s = StageFromName(stage);
  if (!s) return f.Error("pending.stage", "is not ingest, train, eval, export or swap");
  p.stage = *s;
  return std::optional<PendingRun>(p);
}

// The number of a run id "r0042" (0 for another form), clamped to [0, kMaxRunNumber]: strtoll
// saturates at INT64_MAX for "r99999999999999999999", and next_id = number + 1 overflowed.
constexpr int64_t kMaxRunNumber = 999'999'999;
int64_t IdNumber(const std::string& id) {
  if (id.size() < 2 || id[0] != 'r') return 0;
  return std::clamp<int64_t>(std::strtoll(id.c_str() + 1, nullptr, 10), 0, kMaxRunNumber);
}

}  // namespace

std::string_view StageName(Stage stage) {
  switch (stage) {
    case Stage::kIngest:
      return "ingest";
    case Stage::kTrain:
      return "train";
    case Stage::kEval:
      return "eval";
    case Stage::kExport:
      return "export";
    case Stage::kSwap:
      return "swap";
  }
  return "unknown";
}

std::optional<Stage> StageFromName(std::string_view name) {
  for (Stage s : kStages) {
    if (StageName(s) == name) return s;
  }
  return std::nullopt;
}

std::string RetrainState::NewRunId() { return absl::StrFormat("r%04d", next_id++); }

absl::StatusOr<RetrainState> ReadState(const std::filesystem::path& file) {
  RetrainState state;
  absl::StatusOr<std::string> text = core::ReadFile(file);
  if (absl::IsNotFound(text.status())) return state;
  if (!text.ok()) return text.status();
  const json j = json::parse(*text, nullptr, /*allow_exceptions=*/false);
  const core::JsonFields f = StateFields(file);
  // Typed reads, not value("format", ""): that throws when the field is there but not a string
  // (found by fuzz/retrain_state: an uncaught exception ended `tune retrain`).
  TUNE_RETURN_IF_ERROR(f.CheckHeader(j, "tune-retrain-state", kStateFormatVersion));
  TUNE_ASSIGN_OR_RETURN(state.last_commit, f.String(j, "last_commit"));
  TUNE_ASSIGN_OR_RETURN(state.served, f.String(j, "served"));
  TUNE_ASSIGN_OR_RETURN(state.pending, ParsePending(j, f));
  TUNE_ASSIGN_OR_RETURN(const json* runs, f.Field(j, "runs", json::value_t::array));
  for (size_t i = 0; i < runs->size(); ++i) {
    TUNE_ASSIGN_OR_RETURN(RunRecord r, ParseRun((*runs)[i], f, absl::StrFormat("runs[%d].", i)));
    state.next_id = std::max(state.next_id, IdNumber(r.id) + 1);
    state.runs.push_back(std::move(r));
  }
  if (state.pending) state.next_id = std::max(state.next_id, IdNumber(state.pending->id) + 1);
  return state;
}

absl::Status WriteState(const std::filesystem::path& file, const RetrainState& state) {
  json runs = json::array();
  for (const RunRecord& r : state.runs) runs.push_back(RunJson(r));
  json pending = nullptr;
  if (state.pending) {
    pending = {{"id", state.pending->id},
               {"commit", state.pending->commit},
               {"started", state.pending->started},
               {"stage", StageName(state.pending->stage)}};
  }
  json j = {{"format", "tune-retrain-state"}, {"format_version", kStateFormatVersion},
            {"last_commit", state.last_commit}, {"served", state.served},
            {"pending", pending},               {"runs", runs}};
  return core::WriteFileAtomic(file, j.dump(1) + "\n");
}

std::string FormatHistory(const RetrainState& state) {
  std::string out = absl::StrFormat("served: %s\n", state.served.empty() ? "(nothing yet)" : state.served);
  if (state.pending) {
    absl::StrAppendFormat(&out, "unfinished: %s (commit %.12s) stopped in %s; the next run resumes it\n",
                          state.pending->id, state.pending->commit, StageName(state.pending->stage));
  }
  absl::StrAppendFormat(&out, "\n%-6s %-12s %-20s %-9s %-17s %-17s %s\n", "run", "commit", "finished",
                        "outcome", "candidate EM/ES", "served EM/ES", "reason");
  auto scores = [](const std::optional<Scores>& s) {
    return s ? absl::StrFormat("%.3f/%.3f", s->exact_match, s->edit_similarity) : std::string("-");
  };
  for (const RunRecord& r : state.runs) {
    absl::StrAppendFormat(&out, "%-6s %-12.12s %-20s %-9s %-17s %-17s %s\n", r.id, r.commit, r.finished, r.outcome,
                          scores(r.candidate), scores(r.served), r.reason);
  }
  return out;
}

}  // namespace tune::retrain

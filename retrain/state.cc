#include "retrain/state.h"

#include <algorithm>

#include <nlohmann/json.hpp>

#include "absl/strings/str_format.h"
#include "core/file.h"
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

absl::Status Malformed(const std::filesystem::path& file, const std::string& field, std::string_view what) {
  return absl::DataLossError(absl::StrFormat(
      "%s: field %s %s; hint: fix or move the file away (a new state starts from the next commit "
      "with nothing served)",
      file.string(), field, what));
}

absl::StatusOr<std::string> String(const json& j, const char* key, const std::filesystem::path& file,
                                   const std::string& where) {
  auto it = j.find(key);
  if (it == j.end() || !it->is_string()) return Malformed(file, where + key, "is missing or not a string");
  return it->get<std::string>();
}

absl::StatusOr<std::optional<Scores>> ParseScores(const json& j, const char* key, const std::filesystem::path& file,
                                                  const std::string& where) {
  auto it = j.find(key);
  if (it == j.end() || it->is_null()) return std::optional<Scores>();
  // find(), not operator[]: on a const object a missing key is undefined behaviour (a
  // use-after-free under ASan; found by fuzz/retrain_state).
  const auto number = [&](const char* name) -> const json* {
    auto field = it->find(name);
    return field != it->end() && field->is_number() ? &*field : nullptr;
  };
  if (!it->is_object() || !number("exact_match") || !number("edit_similarity")) {
    return Malformed(file, where + key, "is not {exact_match, edit_similarity}");
  }
  return std::optional<Scores>(Scores{number("exact_match")->get<double>(), number("edit_similarity")->get<double>()});
}

absl::StatusOr<RunRecord> ParseRun(const json& j, const std::filesystem::path& file, const std::string& where) {
  if (!j.is_object()) return Malformed(file, where, "is not an object");
  RunRecord r;
  TUNE_ASSIGN_OR_RETURN(r.id, String(j, "id", file, where));
  TUNE_ASSIGN_OR_RETURN(r.commit, String(j, "commit", file, where));
  TUNE_ASSIGN_OR_RETURN(r.started, String(j, "started", file, where));
  TUNE_ASSIGN_OR_RETURN(r.finished, String(j, "finished", file, where));
  TUNE_ASSIGN_OR_RETURN(r.outcome, String(j, "outcome", file, where));
  TUNE_ASSIGN_OR_RETURN(r.reason, String(j, "reason", file, where));
  TUNE_ASSIGN_OR_RETURN(r.stage, String(j, "stage", file, where));
  TUNE_ASSIGN_OR_RETURN(r.served_id, String(j, "served_id", file, where));
  TUNE_ASSIGN_OR_RETURN(r.candidate, ParseScores(j, "candidate", file, where));
  TUNE_ASSIGN_OR_RETURN(r.served, ParseScores(j, "served", file, where));
  return r;
}

absl::StatusOr<std::optional<PendingRun>> ParsePending(const json& j, const std::filesystem::path& file) {
  auto it = j.find("pending");
  if (it == j.end() || it->is_null()) return std::optional<PendingRun>();
  if (!it->is_object()) return Malformed(file, "pending", "is not an object");
  PendingRun p;
  TUNE_ASSIGN_OR_RETURN(p.id, String(*it, "id", file, "pending."));
  TUNE_ASSIGN_OR_RETURN(p.commit, String(*it, "commit", file, "pending."));
  TUNE_ASSIGN_OR_RETURN(p.started, String(*it, "started", file, "pending."));
  TUNE_ASSIGN_OR_RETURN(std::string stage, String(*it, "stage", file, "pending."));
  std::optional<Stage> s = StageFromName(stage);
  if (!s) return Malformed(file, "pending.stage", "is not ingest, train, eval, export or swap");
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
  json j = json::parse(*text, nullptr, /*allow_exceptions=*/false);
  if (!j.is_object()) return Malformed(file, "(top level)", "is not a JSON object");
  // Not value("format", ""): it throws when the field is there but not a string (found by
  // fuzz/retrain_state: an uncaught exception ended `tune retrain`).
  if (!j["format"].is_string() || j["format"].get<std::string>() != "tune-retrain-state") {
    return Malformed(file, "format", "is not \"tune-retrain-state\"");
  }
  if (!j["format_version"].is_number_integer()) return Malformed(file, "format_version", "is not an integer");
  if (j["format_version"].get<int64_t>() != kStateFormatVersion) {
    return absl::FailedPreconditionError(absl::StrFormat("%s has format_version %d, this tune reads %d",
                                                         file.string(), j["format_version"].get<int64_t>(),
                                                         kStateFormatVersion));
  }
  TUNE_ASSIGN_OR_RETURN(state.last_commit, String(j, "last_commit", file, ""));
  TUNE_ASSIGN_OR_RETURN(state.served, String(j, "served", file, ""));
  TUNE_ASSIGN_OR_RETURN(state.pending, ParsePending(j, file));
  if (!j["runs"].is_array()) return Malformed(file, "runs", "is not an array");
  for (size_t i = 0; i < j["runs"].size(); ++i) {
    TUNE_ASSIGN_OR_RETURN(RunRecord r, ParseRun(j["runs"][i], file, absl::StrFormat("runs[%d].", i)));
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

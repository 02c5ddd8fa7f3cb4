// What `tune retrain` remembers between runs, in <dir>/state.json (written atomically after every
// stage, so a kill -9 at any point leaves the last consistent state):
//
//   {"format": "tune-retrain-state", "format_version": 1,
//    "last_commit": commit of the last run that finished (promoted or not),
//    "served": id of the version being served ("" before the first promotion),
//    "pending": {"id", "commit", "stage"} of a run that has not finished (killed), or null,
//    "runs": [{"id", "commit", "started", "finished", "outcome", "reason", "stage",
//              "candidate": {"exact_match", "edit_similarity"} | null,
//              "served": {"exact_match", "edit_similarity"} | null, "served_id"}]}
//
// Outcomes: "promoted" (now served), "rejected" (gate said worse; served unchanged), "failed" (a
// stage failed; served unchanged; "stage" names it), "rollback" (an operator went back).
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"

namespace tune::retrain {

inline constexpr int kStateFormatVersion = 1;

// The stages of one run, in order.
enum class Stage { kIngest, kTrain, kEval, kExport, kSwap };
inline constexpr Stage kStages[] = {Stage::kIngest, Stage::kTrain, Stage::kEval, Stage::kExport, Stage::kSwap};
std::string_view StageName(Stage stage);
std::optional<Stage> StageFromName(std::string_view name);

struct Scores {
  double exact_match = 0;
  double edit_similarity = 0;
};

struct RunRecord {
  std::string id;  // "r0001", ...: also the version directory of its model
  std::string commit;
  std::string started, finished;  // UTC, ISO 8601
  std::string outcome;            // promoted | rejected | failed | rollback
  std::string reason;
  std::string stage;              // the failed stage, for "failed"
  std::optional<Scores> candidate, served;
  std::string served_id;  // the version the candidate was compared with ("" = the base model)
};

struct PendingRun {
  std::string id, commit, started;
  Stage stage = Stage::kIngest;
};

struct RetrainState {
  std::string last_commit;
  std::string served;
  std::optional<PendingRun> pending;
  std::vector<RunRecord> runs;
  int64_t next_id = 1;  // derived from runs and pending when read

  // "r0001" for next_id 1.
  std::string NewRunId();
};

// A missing file is an empty state. DataLoss naming the field for a malformed one,
// FailedPrecondition for another format version.
absl::StatusOr<RetrainState> ReadState(const std::filesystem::path& file);
absl::Status WriteState(const std::filesystem::path& file, const RetrainState& state);

// The history as a table, newest last, for `tune retrain --status`.
std::string FormatHistory(const RetrainState& state);

}  // namespace tune::retrain

// `tune retrain`: the scheduled job that keeps the served model current and never leaves a team
// with a worse or broken one. One run, a recipe of stages (retrain/state.h names them):
//
//   nothing new?  HEAD of the repository == the last finished run's commit: exit 0 at once
//   ingest        `tune ingest` at HEAD into <dir>/dataset (incremental: unchanged blobs are reused)
//   train         `tune train` a fresh adapter into <dir>/versions/<id>/adapter (resumed when a
//                 killed run left checkpoints)
//   eval          `tune eval` candidate (base + new adapter) against the served version (base +
//                 its adapter; the base model before the first promotion) on the same tasks
//   gate          promote only if the candidate's gated metric is not below the served one's by
//                 more than `margin`; otherwise record "rejected" and stop, served file untouched
//   export        `tune export` the merged candidate to <dir>/versions/<id>/model.gguf
//   swap          copy it over <dir>/served.gguf atomically (rename), ask `tune serve` to reload
//                 (POST <serve_url>/admin/reload), keep the last `keep` promoted versions
//
// State (<dir>/state.json) is written before every stage, a lock keeps runs apart, each run logs
// to <dir>/logs/<id>.log. A killed run is resumed by the next one at the stage it was in; a failed
// stage is recorded, leaves the served model as it was and returns its error.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "core/config.h"

namespace tune::retrain {

struct RetrainOptions {
  std::filesystem::path repo;  // the local git repository (nothing is fetched)
  std::filesystem::path dir;   // run directory: state, dataset, versions, served.gguf, logs
  std::filesystem::path base;  // Hugging Face base model directory
  // Passed to every stage, so ingest, train and eval see the same configuration.
  std::filesystem::path config;
  std::vector<std::string> overrides;
  std::string quant = "Q8_0";              // served GGUF type (tune export --quant)
  std::string metric = "edit_similarity";  // or "exact_match": the gate
  double margin = 0.0;                     // the candidate may be this much below the served model
  std::string fim_order = "psm";           // the order the gate scores (the one served)
  int64_t keep = 3;                        // promoted versions kept on disk (the served one included)
  int64_t tasks_per_kind = 30;             // benchmark size per language and kind
  std::string serve_url;                   // e.g. http://127.0.0.1:8012; empty: no reload request
  // Train each candidate from the served version's adapter (tune train --init-adapter) rather
  // than from fresh adapters; the first run, with nothing served, starts fresh.
  bool warm_start = false;
  int64_t warm_steps = 0;  // train.steps of a warm-started run; 0: train.steps
  double warm_lr = 0.0;    // train.lr of a warm-started run; 0: train.lr
  std::filesystem::path tune_binary = "/proc/self/exe";
  bool quiet = false;
};

// The [retrain] section of `config` over the defaults of RetrainOptions (every key in
// docs/config.md). InvalidArgument naming the file, key and allowed values.
absl::StatusOr<RetrainOptions> ParseRetrainOptions(const core::Config& config);

struct RetrainOutcome {
  std::string outcome;  // noop | promoted | rejected | rollback
  std::string message;  // one line for the user
};

absl::StatusOr<RetrainOutcome> RunRetrain(const RetrainOptions& options);

// Serves the promoted version before the current one again (atomic swap + reload) and records it.
// FailedPrecondition when there is none on disk.
absl::StatusOr<RetrainOutcome> Rollback(const RetrainOptions& options);

// The history table of `tune retrain --status`.
absl::StatusOr<std::string> HistoryTable(const std::filesystem::path& dir);

}  // namespace tune::retrain

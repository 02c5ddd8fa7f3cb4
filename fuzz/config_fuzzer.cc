// Config::Load of a TOML file, then the torch-free section readers on it: [ingest]
// (ParseIngestOptions) and [retrain] (ParseRetrainOptions), with their typed, range-checked,
// unknown-key-rejecting reads.
#include "core/config.h"
#include "data/ingest.h"
#include "fuzz/fuzz_target.h"
#include "retrain/retrain.h"

TUNE_FUZZ_TARGET(config) {
  const std::filesystem::path path = tune::fuzz::WriteInput("config.toml", input);
  absl::StatusOr<tune::core::Config> config = tune::core::Config::Load(path);
  if (!config.ok()) return tune::fuzz::CheckError(config.status(), path.string());
  if (absl::Status s = tune::data::ParseIngestOptions(*config).status(); !s.ok()) {
    tune::fuzz::CheckError(s, path.string());
  }
  if (absl::Status s = tune::retrain::ParseRetrainOptions(*config).status(); !s.ok()) {
    tune::fuzz::CheckError(s, path.string());
  }
}

// Config::Load of a TOML file, then the torch-free section readers on it: [ingest]
// (ParseIngestConfig) and [retrain] (ParseRetrainConfig), with their typed, range-checked,
// unknown-key-rejecting reads.
#include "core/config.h"
#include "data/ingest.h"
#include "fuzz/fuzz_target.h"
#include "retrain/retrain.h"

TUNE_FUZZ_TARGET(config) {
  const std::filesystem::path path = tune::fuzz::WriteInput("config.toml", input);
  absl::StatusOr<tune::core::Config> config = tune::core::Config::Load(path);
  if (!config.ok()) return tune::fuzz::CheckError(config.status(), path.string());
  tune::data::IngestOptions ingest;
  if (absl::Status s = tune::data::ParseIngestConfig(*config, ingest); !s.ok()) {
    tune::fuzz::CheckError(s, path.string());
  }
  tune::retrain::RetrainOptions retrain;
  if (absl::Status s = tune::retrain::ParseRetrainConfig(*config, retrain); !s.ok()) {
    tune::fuzz::CheckError(s, path.string());
  }
}

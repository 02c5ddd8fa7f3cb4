// run.json: what one `tune train` run was (settings, device, result) and what it was trained on
// (the dataset and its repository commit). `tune train` writes it beside the adapter; this header
// is its one reader too, for `tune export`'s GGUF provenance and anyone else.
//
//   {"format_version": 1, "base": dir, "data": dataset dir, "settings": {...the run fingerprint},
//    "processes": N, "device": "cpu", "compute_dtype": "f32",
//    "training_data": {"repo_name": ..., "commit": ...},
//    "result": {"steps", "final_loss", "tokens", "final_eval_loss"?}}
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>

#include "absl/status/statusor.h"

namespace tune::train {

inline constexpr int kRunInfoFormatVersion = 1;

struct RunInfo {
  std::string base, data;
  std::string settings_json;  // the run fingerprint (a JSON object)
  int64_t processes = 1;
  std::string device, compute_dtype;
  std::string data_repo_name, data_commit;  // "" for runs written before tune recorded them
  int64_t steps = 0, tokens = 0;
  double final_loss = 0;
  std::optional<double> final_eval_loss;
};

// Writes <dir>/run.json atomically.
absl::Status WriteRunInfo(const std::filesystem::path& dir, const RunInfo& info);

// Reads <dir>/run.json. NotFound when absent (an adapter from elsewhere); DataLoss naming the
// field when malformed; FailedPrecondition for another format version.
absl::StatusOr<RunInfo> ReadRunInfo(const std::filesystem::path& dir);

}  // namespace tune::train

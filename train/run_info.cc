#include "train/run_info.h"

#include <nlohmann/json.hpp>

#include "absl/strings/str_format.h"
#include "core/file.h"
#include "core/json_fields.h"
#include "core/status.h"

namespace tune::train {

using nlohmann::json;

absl::Status WriteRunInfo(const std::filesystem::path& dir, const RunInfo& info) {
  json result = {{"steps", info.steps}, {"final_loss", info.final_loss}, {"tokens", info.tokens}};
  if (info.final_eval_loss) result["final_eval_loss"] = *info.final_eval_loss;
  const json run = {{"format_version", kRunInfoFormatVersion},
                    {"base", info.base},
                    {"data", info.data},
                    {"settings", json::parse(info.settings_json)},
                    {"processes", info.processes},
                    {"device", info.device},
                    {"compute_dtype", info.compute_dtype},
                    {"training_data", {{"repo_name", info.data_repo_name}, {"commit", info.data_commit}}},
                    {"result", result}};
  return core::WriteFileAtomic(dir / "run.json", run.dump(2) + "\n");
}

absl::StatusOr<RunInfo> ReadRunInfo(const std::filesystem::path& dir) {
  const std::filesystem::path file = dir / "run.json";
  TUNE_ASSIGN_OR_RETURN(std::string text, core::ReadFile(file));
  const json j = json::parse(text, nullptr, /*allow_exceptions=*/false);
  const core::JsonFields f(file.string(), "it is written by `tune train`, do not edit it");
  TUNE_RETURN_IF_ERROR(f.CheckHeader(j, "", kRunInfoFormatVersion));
  RunInfo info;
  TUNE_ASSIGN_OR_RETURN(info.base, f.String(j, "base"));
  TUNE_ASSIGN_OR_RETURN(info.data, f.String(j, "data"));
  TUNE_ASSIGN_OR_RETURN(info.device, f.String(j, "device"));
  TUNE_ASSIGN_OR_RETURN(info.compute_dtype, f.String(j, "compute_dtype"));
  TUNE_ASSIGN_OR_RETURN(const json* settings, f.Field(j, "settings", json::value_t::object));
  info.settings_json = settings->dump();
  if (core::JsonFields::Has(j, "training_data")) {
    const json& t = *j.find("training_data");
    TUNE_ASSIGN_OR_RETURN(info.data_repo_name, f.String(t, "repo_name", "training_data."));
    TUNE_ASSIGN_OR_RETURN(info.data_commit, f.String(t, "commit", "training_data."));
  }
  TUNE_ASSIGN_OR_RETURN(const json* result, f.Field(j, "result", json::value_t::object));
  TUNE_ASSIGN_OR_RETURN(uint64_t steps, f.Unsigned(*result, "steps", INT64_MAX, "result."));
  TUNE_ASSIGN_OR_RETURN(uint64_t tokens, f.Unsigned(*result, "tokens", INT64_MAX, "result."));
  TUNE_ASSIGN_OR_RETURN(info.final_loss, f.Number(*result, "final_loss", 0, 1e30, "result."));
  info.steps = static_cast<int64_t>(steps);
  info.tokens = static_cast<int64_t>(tokens);
  if (core::JsonFields::Has(*result, "final_eval_loss")) {
    TUNE_ASSIGN_OR_RETURN(info.final_eval_loss, f.Number(*result, "final_eval_loss", 0, 1e30, "result."));
  }
  if (core::JsonFields::Has(j, "processes")) {
    TUNE_ASSIGN_OR_RETURN(uint64_t processes, f.Unsigned(j, "processes", 1 << 20));
    info.processes = static_cast<int64_t>(processes);
  }
  return info;
}

}  // namespace tune::train

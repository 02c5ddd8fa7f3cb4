#include "train/run_info.h"

#include <nlohmann/json.hpp>

#include "absl/strings/str_format.h"
#include "core/file.h"
#include "core/status.h"

namespace tune::train {
namespace {

using nlohmann::json;

absl::Status Malformed(const std::filesystem::path& file, std::string_view field) {
  return absl::DataLossError(absl::StrFormat("%s: field %s is missing or of the wrong type; hint: it "
                                             "is written by `tune train`, do not edit it",
                                             file.string(), field));
}

}  // namespace

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
  if (!j.is_object()) return Malformed(file, "(top level)");
  if (!j.contains("format_version") || !j["format_version"].is_number_integer()) return Malformed(file, "format_version");
  if (j["format_version"].get<int64_t>() != kRunInfoFormatVersion) {
    return absl::FailedPreconditionError(absl::StrFormat("%s has format_version %d, this tune reads %d",
                                                         file.string(), j["format_version"].get<int64_t>(),
                                                         kRunInfoFormatVersion));
  }
  RunInfo info;
  for (auto [key, out] : {std::pair{"base", &info.base}, {"data", &info.data}, {"device", &info.device},
                          {"compute_dtype", &info.compute_dtype}}) {
    if (!j.contains(key) || !j[key].is_string()) return Malformed(file, key);
    *out = j[key].get<std::string>();
  }
  if (!j.contains("settings") || !j["settings"].is_object()) return Malformed(file, "settings");
  info.settings_json = j["settings"].dump();
  if (j.contains("training_data")) {
    const json& t = j["training_data"];
    if (!t.is_object() || !t.value("repo_name", json()).is_string() || !t.value("commit", json()).is_string()) {
      return Malformed(file, "training_data");
    }
    info.data_repo_name = t["repo_name"].get<std::string>();
    info.data_commit = t["commit"].get<std::string>();
  }
  if (!j.contains("result") || !j["result"].is_object()) return Malformed(file, "result");
  const json& r = j["result"];
  if (!r.value("steps", json()).is_number_integer() || !r.value("tokens", json()).is_number_integer() ||
      !r.value("final_loss", json()).is_number()) {
    return Malformed(file, "result");
  }
  info.steps = r["steps"].get<int64_t>();
  info.tokens = r["tokens"].get<int64_t>();
  info.final_loss = r["final_loss"].get<double>();
  if (r.contains("final_eval_loss") && r["final_eval_loss"].is_number()) info.final_eval_loss = r["final_eval_loss"].get<double>();
  info.processes = j.value("processes", int64_t{1});
  return info;
}

}  // namespace tune::train

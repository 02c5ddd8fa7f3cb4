#include "cli/config_flags.h"

#include <filesystem>

#include "core/status.h"
#include "data/ingest.h"
#include "model/model_options.h"
#include "retrain/retrain.h"
#include "train/train_options.h"

namespace tune::cli {

void AddConfigFlags(CLI::App* cmd, ConfigFlags& flags) {
  cmd->add_option("--config", flags.path, "TOML config, e.g. configs/qwen2.5-coder.toml (default: ./tune.toml if present)");
  cmd->add_option("--set", flags.overrides, "override a config value: section.key=value (repeatable)");
}

absl::StatusOr<std::optional<core::Config>> LoadConfigFlags(const ConfigFlags& flags) {
  // Without --config, ./tune.toml (from `tune init`) when there is one.
  const std::string path = !flags.path.empty() || !std::filesystem::exists(kDefaultConfig) ? flags.path : kDefaultConfig;
  if (path.empty() && flags.overrides.empty()) return std::optional<core::Config>();
  absl::StatusOr<core::Config> config =
      path.empty() ? core::Config::Parse("", "--set", flags.overrides) : core::Config::Load(path, flags.overrides);
  if (!config.ok()) return config.status();
  TUNE_RETURN_IF_ERROR(config->CheckSections({"model", "lora", "ingest", "train", "retrain"}));
  TUNE_RETURN_IF_ERROR(model::ParseModelOptions(*config).status());
  TUNE_RETURN_IF_ERROR(model::ParseLoraOptions(*config).status());
  TUNE_RETURN_IF_ERROR(train::ParseTrainOptions(*config).status());
  TUNE_RETURN_IF_ERROR(data::ParseIngestOptions(*config).status());
  TUNE_RETURN_IF_ERROR(retrain::ParseRetrainOptions(*config).status());
  return std::optional<core::Config>(std::move(config).value());
}

}  // namespace tune::cli

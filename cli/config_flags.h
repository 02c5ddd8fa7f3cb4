// `--config FILE` and `--set section.key=value` (repeatable), shared by the subcommands that read
// a tune config. The whole file is validated, not just the sections one command uses, so a
// typo anywhere is reported with the file, the key and the allowed values.
#pragma once

#include <CLI/CLI.hpp>

#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "core/config.h"

namespace tune::cli {

// Read when --config is not given and the current directory has one (`tune init` writes it).
inline constexpr char kDefaultConfig[] = "tune.toml";

struct ConfigFlags {
  std::string path;
  std::vector<std::string> overrides;
};

void AddConfigFlags(CLI::App* cmd, ConfigFlags& flags);

// nullopt when neither --config, ./tune.toml nor --set is there.
absl::StatusOr<std::optional<core::Config>> LoadConfigFlags(const ConfigFlags& flags);

}  // namespace tune::cli

// Flags of the commands that run a GGUF through the bundled runner (inference/engine.h):
// `tune serve`, `tune complete`, and `tune debug generate` with a .gguf model.
#pragma once

#include <CLI/CLI.hpp>

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "inference/engine.h"

namespace tune::cli {

struct RunnerFlags {
  inference::EngineOptions engine;
  std::string model;
  std::vector<std::string> loras;  // F.gguf or F.gguf:scale
};

// --model, --lora, --ctx-size, --batch-size, --ubatch-size, --threads, --n-gpu-layers,
// --repo-name, --spm-infill, --index, --retrieval-chunks; `server` adds --parallel, --cache-reuse and --max-queue.
void AddRunnerFlags(CLI::App* cmd, RunnerFlags& flags, bool server);

// Engine options with the model and adapters filled in; a bad --lora scale is an error.
absl::StatusOr<inference::EngineOptions> RunnerOptions(const RunnerFlags& flags);

}  // namespace tune::cli

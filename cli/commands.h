// The subcommands of the `tune` binary. Each Register function adds one subcommand to `app`;
// its callback parses nothing itself beyond flags, calls one library entry point and stores
// that call's Status in `result`, which main() turns into the exit code.
#pragma once

#include <CLI/CLI.hpp>

#include "absl/status/status.h"

namespace tune::cli {

// `tune train`: LoRA/QLoRA fine-tuning. argv is kept so that --nproc can re-run the command.
void RegisterTrainCommand(CLI::App& app, int argc, char** argv, absl::Status& result);

// `tune debug ...`: inspection tools (logits, generate, tokenize, ...).
void RegisterDebugCommand(CLI::App& app, absl::Status& result);

// `tune debug logits` and `tune debug generate`: run a Hugging Face model directory.
void RegisterDebugModelCommands(CLI::App& debug, absl::Status& result);

}  // namespace tune::cli

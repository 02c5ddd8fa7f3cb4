// The subcommands of the `tune` binary. Each Register function adds one subcommand to `app`;
// its callback parses nothing itself beyond flags, calls one library entry point and stores
// that call's Status in `result`, which main() turns into the exit code.
#pragma once

#include <CLI/CLI.hpp>

#include "absl/status/status.h"

namespace tune::cli {

// `tune ingest`: mine a git repository into a dataset of token shards.
void RegisterIngestCommand(CLI::App& app, absl::Status& result);

// `tune train`: LoRA/QLoRA fine-tuning. argv is kept so that --nproc can re-run the command.
void RegisterTrainCommand(CLI::App& app, int argc, char** argv, absl::Status& result);

// `tune export`: GGUF (adapter merged) + Ollama Modelfile, or the adapter alone.
void RegisterExportCommand(CLI::App& app, absl::Status& result);

// `tune serve`: the llama.cpp-compatible completion server (inference/server.h).
void RegisterServeCommand(CLI::App& app, absl::Status& result);

// `tune complete`: one FIM completion of files from the shell.
void RegisterCompleteCommand(CLI::App& app, absl::Status& result);

// `tune eval`: base vs tuned model on fill-in-the-middle tasks from the held-out files.
void RegisterEvalCommand(CLI::App& app, absl::Status& result);

// `tune retrain`: the scheduled retraining job, its history and rollback.
void RegisterRetrainCommand(CLI::App& app, absl::Status& result);

// `tune doctor` and `tune init`: machine and repository checks, a recommended setup, tune.toml.
void RegisterDoctorCommands(CLI::App& app, absl::Status& result);

// `tune debug ...`: inspection tools (logits, generate, tokenize, ...).
void RegisterDebugCommand(CLI::App& app, absl::Status& result);

// `tune debug logits` and `tune debug generate`: run a Hugging Face model directory.
void RegisterDebugModelCommands(CLI::App& debug, absl::Status& result);

// `tune debug tokenize`: text <-> token ids with a model's tokenizer.
void RegisterDebugTokenizeCommand(CLI::App& debug, absl::Status& result);

// `tune debug shards`: print the documents of a dataset's token shards.
void RegisterDebugShardsCommand(CLI::App& debug, absl::Status& result);

}  // namespace tune::cli

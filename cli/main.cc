// `tune`: fine-tune a coding model on a git repository and serve it locally.
//
// Exit codes: 0 success; 1 the command failed at run time (I/O, corrupt input, out of memory);
// 2 usage or configuration error (unknown flag, bad config key or value, missing file);
// 130 interrupted by SIGINT/SIGTERM after saving state (e.g. a training checkpoint).
#include <CLI/CLI.hpp>

#include <cstdio>
#include <string>

#include "absl/status/status.h"
#include "cli/commands.h"
#include "core/progress.h"

namespace {

constexpr int kExitOk = 0;
constexpr int kExitFailure = 1;
constexpr int kExitUsage = 2;
constexpr int kExitInterrupted = 130;  // SIGINT/SIGTERM: state was saved; the shell convention

int ExitCode(const absl::Status& status) {
  if (status.ok()) return kExitOk;
  std::fprintf(stderr, "tune: error: %s\n", std::string(status.message()).c_str());
  switch (status.code()) {
    case absl::StatusCode::kInvalidArgument:
    case absl::StatusCode::kNotFound:
    case absl::StatusCode::kAlreadyExists:
      return kExitUsage;
    case absl::StatusCode::kCancelled:
      return kExitInterrupted;
    default:
      return kExitFailure;
  }
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app("tune: fine-tune an open-weight coding model on your git repository and serve it "
               "locally.\nExit codes: 0 ok, 1 failure, 2 usage or configuration error, 130 interrupted (state saved).",
               "tune");
  app.set_version_flag("--version", std::string("tune ") + TUNE_VERSION);
  app.require_subcommand(1);
  // Before the subcommand's callback runs: each() applies it as soon as it is parsed.
  app.add_option("--progress", "how long stages report progress on stderr: auto (a redrawn line on a "
                               "terminal, plain lines otherwise), plain, json (one event per line), none")
      ->check(CLI::IsMember({"auto", "plain", "json", "none"}))
      ->each([](const std::string& name) {
        tune::core::ProgressMode mode;
        if (tune::core::ParseProgressMode(name, mode)) tune::core::SetProgressMode(mode);
      });
  absl::Status result;
  tune::cli::RegisterIngestCommand(app, result);
  tune::cli::RegisterTrainCommand(app, argc, argv, result);
  tune::cli::RegisterExportCommand(app, result);
  tune::cli::RegisterServeCommand(app, result);
  tune::cli::RegisterCompleteCommand(app, result);
  tune::cli::RegisterEvalCommand(app, result);
  tune::cli::RegisterRetrainCommand(app, result);
  tune::cli::RegisterDoctorCommands(app, result);
  tune::cli::RegisterDebugCommand(app, result);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    int code = app.exit(e);
    return code == 0 ? kExitOk : kExitUsage;
  }
  return ExitCode(result);
}

#include "cli/commands.h"

namespace tune::cli {

void RegisterDebugCommand(CLI::App& app, absl::Status& result) {
  CLI::App* debug = app.add_subcommand(
      "debug", "inspection tools: run a model on token ids, tokenize text, print dataset shards");
  debug->require_subcommand(1);
  RegisterDebugModelCommands(*debug, result);
  RegisterDebugTokenizeCommand(*debug, result);
  RegisterDebugShardsCommand(*debug, result);
}

}  // namespace tune::cli

// Runs the built `tune` binary as a user would, for end-to-end tests.
#pragma once

#include <string>

namespace tune::testing {

struct RunResult {
  int exit_code;       // -1 when killed by a signal
  std::string output;  // stdout, and stderr unless left out
};

// `<build>/cli/tune ARGS` through the shell (ARGS may hold redirections and env assignments go
// before it with `env`). with_stderr=false drops stderr.
RunResult RunTune(const std::string& args, bool with_stderr = true);

}  // namespace tune::testing

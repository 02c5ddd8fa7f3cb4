// Runs the built `tune` binary as a user would, for end-to-end tests.
#pragma once

#include <filesystem>
#include <string>

namespace tune::testing {

struct RunResult {
  int exit_code;       // -1 when killed by a signal
  std::string output;  // stdout, and stderr unless left out
};

// `command` through the shell: stdout captured, and stderr too unless with_stderr is false.
RunResult RunShell(const std::string& command, bool with_stderr = true);

// `<build>/cli/tune ARGS` through the shell (ARGS may hold redirections and env assignments go
// before it with `env`). with_stderr=false drops stderr.
RunResult RunTune(const std::string& args, bool with_stderr = true);

// `tune debug tiny-base` into `dir` (the fixture and tune's tiny FIM tokenizer): the embedded
// default's trainable base, for end-to-end tests. Fails the test when it cannot.
std::string MakeTinyBase(const std::filesystem::path& dir);

}  // namespace tune::testing

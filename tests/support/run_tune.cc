#include "tests/support/run_tune.h"

#include <sys/wait.h>

#include <array>
#include <cstdio>

namespace tune::testing {

RunResult RunTune(const std::string& args, bool with_stderr) {
  const std::string cmd =
      std::string(TUNE_BINARY_DIR) + "/cli/tune " + args + (with_stderr ? " 2>&1" : " 2>/dev/null");
  FILE* pipe = popen(cmd.c_str(), "r");
  std::string out;
  std::array<char, 4096> buf;
  while (size_t n = fread(buf.data(), 1, buf.size(), pipe)) out.append(buf.data(), n);
  const int status = pclose(pipe);
  return {WIFEXITED(status) ? WEXITSTATUS(status) : -1, out};
}

}  // namespace tune::testing

#include "tests/support/run_tune.h"

#include <sys/wait.h>

#include <array>
#include <cstdio>

#include <gtest/gtest.h>

#include "tests/support/temp_dir.h"

namespace tune::testing {

RunResult RunShell(const std::string& command, bool with_stderr) {
  FILE* pipe = popen((command + (with_stderr ? " 2>&1" : " 2>/dev/null")).c_str(), "r");
  std::string out;
  std::array<char, 4096> buf;
  while (size_t n = fread(buf.data(), 1, buf.size(), pipe)) out.append(buf.data(), n);
  const int status = pclose(pipe);
  return {WIFEXITED(status) ? WEXITSTATUS(status) : -1, out};
}

RunResult RunTune(const std::string& args, bool with_stderr) {
  return RunShell(std::string(TUNE_BINARY_DIR) + "/cli/tune " + args, with_stderr);
}

std::string MakeTinyBase(const std::filesystem::path& dir) {
  const RunResult r = RunTune("debug tiny-base --out " + dir.string() + " --fixture " +
                              FixturePath("tiny-llama").string() + " --tokenizer " +
                              SourcePath("configs/tokenizer/tiny-fim.model").string());
  EXPECT_EQ(r.exit_code, 0) << r.output;
  return dir.string();
}

}  // namespace tune::testing

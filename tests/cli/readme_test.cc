// README's command lines stay true: for every subcommand, the flags its usage lines and flag table
// show are exactly the flags `tune CMD --help` lists, and the two set-up commands exist.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <regex>
#include <set>
#include <sstream>
#include <string>

#include "core/file.h"
#include "tests/support/run_tune.h"
#include "tests/support/temp_dir.h"

namespace tune {
namespace {

using tune::testing::SourcePath;

std::set<std::string> Flags(const std::string& text) {
  static const std::regex kFlag(R"(--[a-z][a-z0-9-]*)");
  std::set<std::string> out;
  for (auto it = std::sregex_iterator(text.begin(), text.end(), kFlag); it != std::sregex_iterator(); ++it) {
    out.insert(it->str());
  }
  return out;
}

// The README section of `tune CMD` (its heading names it), reduced to its usage lines (code lines
// starting with "tune CMD" and their indented continuations) and its flag table's first column.
std::string UsageOf(const std::string& readme, const std::string& cmd) {
  // The "### " heading line that names it.
  const std::regex kHeading("\n### [^\n]*`tune " + cmd + "`");
  std::smatch found;
  if (!std::regex_search(readme, found, kHeading)) return "";
  const size_t heading = static_cast<size_t>(found.position(0)) + 1;
  const size_t end = readme.find("\n### ", heading);
  std::istringstream section(readme.substr(heading, end == std::string::npos ? std::string::npos : end - heading));
  std::string line, usage;
  bool continuing = false;
  while (std::getline(section, line)) {
    const bool starts = line.rfind("tune " + cmd + " ", 0) == 0 || line == "tune " + cmd;
    continuing = starts || (continuing && line.rfind("  ", 0) == 0);
    if (continuing) usage += line + "\n";
    if (line.rfind("| `--", 0) == 0) usage += line.substr(0, line.find('`', 3) + 1) + "\n";
  }
  return usage;
}

TEST(ReadmeTest, EverySubcommandsFlagsMatchItsHelp) {
  const std::string readme = core::ReadFile(SourcePath("README.md")).value();
  for (const std::string cmd : {"ingest", "train", "export", "serve", "complete", "eval", "retrain", "doctor", "init"}) {
    SCOPED_TRACE(cmd);
    const std::string usage = UsageOf(readme, cmd);
    ASSERT_FALSE(usage.empty()) << "README has no usage for tune " << cmd;
    tune::testing::RunResult help = tune::testing::RunTune(cmd + " --help");
    ASSERT_EQ(help.exit_code, 0) << help.output;
    std::set<std::string> documented = Flags(usage), actual;
    // --help lists each option at the start of a line: "  --flag TYPE ..." or "  -h,--help".
    static const std::regex kOption(R"(^\s+(?:-\w,)?(--[a-z][a-z0-9-]*))");
    std::istringstream lines(help.output);
    for (std::string line; std::getline(lines, line);) {
      std::smatch m;
      if (std::regex_search(line, m, kOption)) actual.insert(m[1]);
    }
    actual.erase("--help");
    EXPECT_EQ(documented, actual) << "README usage:\n" << usage;
  }
}

TEST(ReadmeTest, TheTwoSetUpCommandsExist) {
  const std::string readme = core::ReadFile(SourcePath("README.md")).value();
  for (const std::string script : {"scripts/run-default.sh", "scripts/run-tests.sh"}) {
    EXPECT_THAT(readme, ::testing::HasSubstr("./" + script));
    EXPECT_TRUE(std::filesystem::exists(SourcePath(script))) << script;
  }
  EXPECT_THAT(core::ReadFile(SourcePath(".ci/run")).value(), ::testing::HasSubstr("run-tests.sh"));
}

}  // namespace
}  // namespace tune

// The scheduling examples in examples/retrain/ stay valid: systemd units pass `systemd-analyze
// verify` (or, where systemd is absent, a key check), the crontab line and the workflow's
// schedule are valid cron, and every `tune retrain` command line in them parses.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstdlib>
#include <regex>
#include <set>
#include <sstream>

#include "absl/strings/str_format.h"
#include "absl/strings/str_replace.h"
#include "absl/strings/str_split.h"
#include "core/file.h"
#include "tests/data/test_repo.h"
#include "tests/support/run_tune.h"
#include "tests/support/temp_dir.h"

namespace tune {
namespace {

using ::testing::HasSubstr;
using tune::testing::RunTune;
using tune::testing::SourcePath;
using tune::testing::TempDir;

std::string Example(const std::string& name) {
  return core::ReadFile(SourcePath("examples/retrain/" + name)).value();
}

std::vector<std::string> Lines(const std::string& text) {
  std::vector<std::string> out;
  for (absl::string_view l : absl::StrSplit(text, '\n')) {
    std::string line(l);
    if (!line.empty() && line[0] != '#') out.push_back(line);
  }
  return out;
}

// One cron field: *, N, A-B, lists of those, each optionally /STEP, within [lo, hi].
bool ValidCronField(const std::string& field, int lo, int hi) {
  static const std::regex kItem(R"((\*|(\d+)(-(\d+))?)(/(\d+))?)");
  for (absl::string_view item : absl::StrSplit(field, ',')) {
    std::cmatch m;
    const std::string s(item);
    if (!std::regex_match(s.c_str(), m, kItem)) return false;
    if (m[2].matched && (std::stoi(m[2]) < lo || std::stoi(m[2]) > hi)) return false;
    if (m[4].matched && (std::stoi(m[4]) < std::stoi(m[2]) || std::stoi(m[4]) > hi)) return false;
    if (m[6].matched && std::stoi(m[6]) == 0) return false;
  }
  return true;
}

bool ValidCron(const std::string& spec) {
  std::vector<std::string> f = absl::StrSplit(spec, ' ', absl::SkipEmpty());
  return f.size() == 5 && ValidCronField(f[0], 0, 59) && ValidCronField(f[1], 0, 23) &&
         ValidCronField(f[2], 1, 31) && ValidCronField(f[3], 1, 12) && ValidCronField(f[4], 0, 7);
}

TEST(RetrainExamplesTest, CronValidatorRejectsNonsense) {
  EXPECT_TRUE(ValidCron("30 2 * * *"));
  EXPECT_TRUE(ValidCron("*/15 0-6 1,15 * 1-5"));
  EXPECT_FALSE(ValidCron("61 2 * * *"));
  EXPECT_FALSE(ValidCron("30 2 * *"));
  EXPECT_FALSE(ValidCron("30 25 * * *"));
  EXPECT_FALSE(ValidCron("x 2 * * *"));
}

TEST(RetrainExamplesTest, SystemdUnitsVerify) {
  TempDir tmp;
  const std::vector<std::string> units = {"tune-retrain.service", "tune-retrain.timer", "tune-serve.service"};
  std::string args;
  for (const std::string& unit : units) {
    // The units name /usr/local/bin/tune; verify checks the binary exists, so point it at the build.
    tune::testing::WriteTestFile(tmp / unit, absl::StrReplaceAll(Example(unit), {{"/usr/local/bin/tune",
                                                                                  std::string(TUNE_BINARY_DIR) + "/cli/tune"}}));
    args += " " + (tmp / unit).string();
  }
  if (std::filesystem::exists("/usr/bin/systemd-analyze")) {
    const std::string out = (tmp / "verify.log").string();
    const int rc = std::system(("/usr/bin/systemd-analyze verify --man=no" + args + " > " + out + " 2>&1").c_str());
    EXPECT_EQ(rc, 0) << core::ReadFile(out).value_or("");
    EXPECT_EQ(core::ReadFile(out).value_or("?"), "");
    return;
  }
  // Without systemd: sections and keys must be ones systemd knows for these unit types.
  const std::set<std::string> known = {"Description", "Wants", "After", "Type", "WorkingDirectory", "ExecStart",
                                       "ExecReload", "Nice", "IOSchedulingClass", "TimeoutStartSec", "Restart",
                                       "OnCalendar", "Persistent", "RandomizedDelaySec", "WantedBy"};
  for (const std::string& unit : units) {
    for (const std::string& line : Lines(Example(unit))) {
      if (line.front() == '[') {
        EXPECT_THAT((std::set<std::string>{"[Unit]", "[Service]", "[Timer]", "[Install]"}), ::testing::Contains(line));
        continue;
      }
      const size_t eq = line.find('=');
      ASSERT_NE(eq, std::string::npos) << unit << ": " << line;
      EXPECT_TRUE(known.count(line.substr(0, eq))) << unit << ": " << line;
    }
  }
}

TEST(RetrainExamplesTest, CrontabAndWorkflowSchedulesAreValidCron) {
  const std::vector<std::string> cron = Lines(Example("tune-retrain.crontab"));
  ASSERT_EQ(cron.size(), 1u);
  std::vector<std::string> fields = absl::StrSplit(cron[0], ' ');
  EXPECT_TRUE(ValidCron(absl::StrFormat("%s %s %s %s %s", fields[0], fields[1], fields[2], fields[3], fields[4])));
  EXPECT_THAT(cron[0], HasSubstr("tune retrain"));

  const std::string workflow = Example("github-actions-retrain.yml");
  std::smatch m;
  ASSERT_TRUE(std::regex_search(workflow, m, std::regex(R"(schedule:\s*\n\s*- cron: '([^']+)')")));
  EXPECT_TRUE(ValidCron(m[1]));
  EXPECT_TRUE(std::regex_search(workflow, std::regex(R"(runs-on: \[self-hosted[^\]]*\])")));
  EXPECT_THAT(workflow, HasSubstr("cancel-in-progress: false"));
}

// Every `tune retrain` command line of the examples, pointed at a real repository and run
// directory, parses: run with --status it prints the (empty) history.
TEST(RetrainExamplesTest, EveryTuneCommandLineParses) {
  TempDir tmp;
  tune::testing::TestRepo repo(tmp / "repo");
  repo.Commit({{"a.py", "x = 1\n"}});
  const std::string config = SourcePath("configs/tiny.toml").string();
  std::vector<std::string> commands;
  for (const std::string name : {"tune-retrain.service", "tune-retrain.crontab", "github-actions-retrain.yml"}) {
    std::string text = Example(name);
    // The commands themselves: after the binary's path, or a workflow step's `run:`.
    static const std::regex kCommand(R"((?:bin/tune|run: tune) (retrain[^\n>]*))");
    for (auto it = std::sregex_iterator(text.begin(), text.end(), kCommand); it != std::sregex_iterator(); ++it) {
      commands.push_back((*it)[1]);
    }
  }
  ASSERT_GE(commands.size(), 4u);
  for (std::string command : commands) {
    command = absl::StrReplaceAll(command, {{"/srv/repo/tune.toml", config},
                                            {"--config tune.toml", "--config " + config},
                                            {"/srv/repo", repo.path().string()},
                                            {"--repo .", "--repo " + repo.path().string()},
                                            {"/var/lib/tune/retrain", (tmp / "run").string()}});
    tune::testing::RunResult r = RunTune(command + " --status");
    EXPECT_EQ(r.exit_code, 0) << command << "\n" << r.output;
    EXPECT_THAT(r.output, HasSubstr("served: (nothing yet)")) << command;
  }
}

}  // namespace
}  // namespace tune

// Replays fuzz/regressions/<target>/ (inputs that once crashed a reader, or broke one of the
// target's checks) through each fuzz target's entry function in the normal build. A regression
// aborts the process, which fails the test.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "fuzz/fuzz_target.h"

namespace tune::fuzz {
namespace {

const std::filesystem::path kRegressions = std::filesystem::path(TUNE_FUZZ_DIR) / "regressions";

std::vector<std::string> TargetNames() {
  std::vector<std::string> names;
  for (const auto& [name, entry] : Targets()) names.push_back(name);
  return names;
}

TEST(FuzzRegressions, EveryDirectoryNamesATarget) {
  EXPECT_EQ(Targets().size(), 14u);
  for (const auto& dir : std::filesystem::directory_iterator(kRegressions)) {
    EXPECT_TRUE(Targets().count(dir.path().filename().string())) << dir.path();
  }
}

class Replay : public ::testing::TestWithParam<std::string> {};

TEST_P(Replay, RegressionInputsAreHandled) {
  const Entry entry = Targets().at(GetParam());
  entry("");
  const std::filesystem::path dir = kRegressions / GetParam();
  if (!std::filesystem::exists(dir)) return;
  int replayed = 0;
  for (const auto& file : std::filesystem::directory_iterator(dir)) {
    std::ifstream in(file.path(), std::ios::binary);
    std::stringstream bytes;
    bytes << in.rdbuf();
    SCOPED_TRACE(file.path().string());
    entry(bytes.str());
    ++replayed;
  }
  EXPECT_GT(replayed, 0) << dir << " is empty";
}

INSTANTIATE_TEST_SUITE_P(Targets, Replay, ::testing::ValuesIn(TargetNames()),
                         [](const auto& info) { return info.param; });

}  // namespace
}  // namespace tune::fuzz

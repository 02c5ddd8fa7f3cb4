#include "tests/support/temp_dir.h"

#include <gtest/gtest.h>
#include <stdlib.h>

#include <fstream>

namespace tune::testing {

TempDir::TempDir() {
  std::string tmpl = (std::filesystem::temp_directory_path() / "tune-test-XXXXXX").string();
  char* made = mkdtemp(tmpl.data());
  if (made == nullptr) ADD_FAILURE() << "mkdtemp failed for " << tmpl;
  path_ = tmpl;
}

TempDir::~TempDir() {
  std::error_code ec;
  std::filesystem::remove_all(path_, ec);
}

std::filesystem::path FixturePath(const std::string& name) {
  return std::filesystem::path(TUNE_FIXTURES_DIR) / name;
}

std::filesystem::path SourcePath(const std::string& relative) {
  return std::filesystem::path(TUNE_SOURCE_DIR) / relative;
}

void WriteTestFile(const std::filesystem::path& path, const std::string& contents) {
  std::filesystem::create_directories(path.parent_path());
  std::ofstream out(path, std::ios::binary);
  out << contents;
  if (!out) ADD_FAILURE() << "cannot write " << path;
}

}  // namespace tune::testing

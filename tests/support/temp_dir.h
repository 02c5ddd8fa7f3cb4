// Test helpers: a self-deleting temporary directory and the paths of shared fixtures.
#pragma once

#include <filesystem>
#include <string>

namespace tune::testing {

// A fresh directory under $TMPDIR, removed with its contents on destruction.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  TempDir(const TempDir&) = delete;
  const std::filesystem::path& path() const { return path_; }
  std::filesystem::path operator/(const std::string& name) const { return path_ / name; }

 private:
  std::filesystem::path path_;
};

// ../shared/fixtures/hf-reference/<name> beside the source tree.
std::filesystem::path FixturePath(const std::string& name);
// <source tree>/<relative>
std::filesystem::path SourcePath(const std::string& relative);

// Writes `contents` to `path` (creating parents); fails the current test on error.
void WriteTestFile(const std::filesystem::path& path, const std::string& contents);

}  // namespace tune::testing

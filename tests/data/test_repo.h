// Builds git repositories inside tests through libgit2 (no `git` binary needed).
#pragma once

#include <cstdint>
#include <filesystem>
#include <map>
#include <string>

struct git_repository;

namespace tune::testing {

class TestRepo {
 public:
  // Creates an empty repository at `path` (bare: no work tree).
  TestRepo(const std::filesystem::path& path, bool bare = false);
  ~TestRepo();
  TestRepo(const TestRepo&) = delete;

  // Commits exactly `files` (path -> contents) as the new tree on HEAD's branch, with the
  // previous HEAD as parent; `time` is the commit time (seconds since the epoch). Returns the id.
  std::string Commit(const std::map<std::string, std::string>& files, int64_t time = 1700000000,
                     const std::string& message = "test commit");

  const std::filesystem::path& path() const { return path_; }
  // Path of the loose object file of `id` (to corrupt it in tests).
  std::filesystem::path LooseObjectPath(const std::string& id) const;
  // Moves every object into one pack file and deletes the loose ones (as `git gc` would).
  void PackAll();

 private:
  std::filesystem::path path_;
  bool bare_;
  git_repository* repo_ = nullptr;
};

}  // namespace tune::testing

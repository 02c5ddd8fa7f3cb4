// Reads a git repository (bare or with a work tree) through libgit2, straight from the object
// database: the work tree, the index, untracked and ignored files are never looked at.
// One RepoReader must not be used by two threads at once; open one per thread.
#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"

namespace tune::data {

// One regular file of a tree (symlinks and submodules are skipped).
struct TreeFile {
  std::string path;     // '/'-separated, relative to the repository root
  std::string blob_id;  // 40 hex digits
  uint64_t size = 0;    // from the object header: known before the blob is read
  // From the .gitattributes files of the same tree (linguist-generated / linguist-vendored).
  bool attr_generated = false;
  bool attr_vendored = false;
};

class RepoReader {
 public:
  // NotFound if `path` is not a git repository.
  static absl::StatusOr<std::unique_ptr<RepoReader>> Open(const std::filesystem::path& path);
  ~RepoReader();
  RepoReader(const RepoReader&) = delete;
  RepoReader& operator=(const RepoReader&) = delete;

  // Commit id (40 hex) of `rev` ("HEAD", a branch, a tag, a short id, "HEAD~3", ...).
  // FailedPrecondition for a repository without commits, InvalidArgument for a bad rev.
  absl::StatusOr<std::string> ResolveCommit(std::string_view rev);

  // Files of the commit's tree sorted by path, with the linguist flags of its .gitattributes.
  absl::StatusOr<std::vector<TreeFile>> ListFiles(std::string_view commit_id);

  // `commit_id` and its ancestors, newest first: at most `max_commits` (0: no limit) and none
  // older than `since_unix` (0: no limit).
  absl::StatusOr<std::vector<std::string>> RecentCommits(std::string_view commit_id,
                                                         int64_t max_commits, int64_t since_unix);

  // Paths added or modified between the trees of `from` and `to` (renames count as added).
  absl::StatusOr<std::vector<std::string>> ChangedPaths(std::string_view from_commit,
                                                        std::string_view to_commit);

  // Contents of a blob. DataLoss if the object is missing or corrupt.
  absl::StatusOr<std::string> ReadBlob(std::string_view blob_id);
  // Its first `max_bytes` bytes (all of it if shorter), inflating no more than that where the
  // object is stored loose (a packed object is read whole).
  absl::StatusOr<std::string> ReadBlobHead(std::string_view blob_id, size_t max_bytes);

  const std::filesystem::path& path() const { return path_; }

 private:
  struct Impl;
  RepoReader(std::filesystem::path path, std::unique_ptr<Impl> impl);
  std::filesystem::path path_;
  std::unique_ptr<Impl> impl_;
};

}  // namespace tune::data

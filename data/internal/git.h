// RAII handles for libgit2 objects (private to data/; public headers never include git2.h).
#pragma once

#include <git2.h>

#include <memory>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "absl/strings/str_format.h"

namespace tune::data::internal {

template <typename T, void (*Free)(T*)>
struct GitDeleter {
  void operator()(T* p) const { Free(p); }
};
template <typename T, void (*Free)(T*)>
using GitPtr = std::unique_ptr<T, GitDeleter<T, Free>>;

using RepositoryPtr = GitPtr<git_repository, git_repository_free>;
using OdbPtr = GitPtr<git_odb, git_odb_free>;
using OdbObjectPtr = GitPtr<git_odb_object, git_odb_object_free>;
using ObjectPtr = GitPtr<git_object, git_object_free>;
using CommitPtr = GitPtr<git_commit, git_commit_free>;
using TreePtr = GitPtr<git_tree, git_tree_free>;
using RevwalkPtr = GitPtr<git_revwalk, git_revwalk_free>;
using DiffPtr = GitPtr<git_diff, git_diff_free>;

// Status from the last libgit2 error: "<what>: <libgit2 message>".
inline absl::Status GitError(absl::StatusCode code, std::string_view what) {
  const git_error* e = git_error_last();
  return absl::Status(
      code, absl::StrFormat("%s: %s", what, e != nullptr ? e->message : "unknown libgit2 error"));
}

}  // namespace tune::data::internal

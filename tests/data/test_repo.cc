#include "tests/data/test_repo.h"

#include <git2.h>
#include <gtest/gtest.h>

#include <vector>

namespace tune::testing {
namespace {

void Check(int rc, const char* what) {
  if (rc != 0) {
    const git_error* e = git_error_last();
    ADD_FAILURE() << what << ": " << (e ? e->message : "?");
    std::abort();
  }
}

// Writes the tree for `files` (paths relative to this directory) and returns its id.
git_oid WriteTree(git_repository* repo, const std::map<std::string, std::string>& files) {
  git_treebuilder* builder = nullptr;
  Check(git_treebuilder_new(&builder, repo, nullptr), "treebuilder");
  std::map<std::string, std::map<std::string, std::string>> subdirs;
  for (const auto& [path, contents] : files) {
    size_t slash = path.find('/');
    if (slash != std::string::npos) {
      subdirs[path.substr(0, slash)][path.substr(slash + 1)] = contents;
      continue;
    }
    git_oid blob;
    Check(git_blob_create_from_buffer(&blob, repo, contents.data(), contents.size()), "blob");
    Check(git_treebuilder_insert(nullptr, builder, path.c_str(), &blob, GIT_FILEMODE_BLOB),
          "insert");
  }
  for (const auto& [dir, sub] : subdirs) {
    git_oid tree = WriteTree(repo, sub);
    Check(git_treebuilder_insert(nullptr, builder, dir.c_str(), &tree, GIT_FILEMODE_TREE),
          "insert");
  }
  git_oid id;
  Check(git_treebuilder_write(&id, builder), "tree write");
  git_treebuilder_free(builder);
  return id;
}

}  // namespace

TestRepo::TestRepo(const std::filesystem::path& path, bool bare) : path_(path), bare_(bare) {
  git_libgit2_init();
  Check(git_repository_init(&repo_, path.c_str(), bare ? 1 : 0), "init");
}

TestRepo::~TestRepo() {
  git_repository_free(repo_);
  git_libgit2_shutdown();
}

std::string TestRepo::Commit(const std::map<std::string, std::string>& files, int64_t time,
                             const std::string& message) {
  git_oid tree_id = WriteTree(repo_, files);
  git_tree* tree = nullptr;
  Check(git_tree_lookup(&tree, repo_, &tree_id), "tree lookup");
  git_signature* sig = nullptr;
  Check(git_signature_new(&sig, "Test", "test@example.com", time, 0), "signature");
  std::vector<const git_commit*> parents;
  git_commit* parent = nullptr;
  git_oid head;
  if (git_reference_name_to_id(&head, repo_, "HEAD") == 0) {
    Check(git_commit_lookup(&parent, repo_, &head), "parent");
    parents.push_back(parent);
  }
  git_oid id;
  Check(git_commit_create(&id, repo_, "HEAD", sig, sig, nullptr, message.c_str(), tree,
                          parents.size(), parents.data()),
        "commit");
  git_commit_free(parent);
  git_signature_free(sig);
  git_tree_free(tree);
  char buf[GIT_OID_HEXSZ + 1];
  git_oid_tostr(buf, sizeof(buf), &id);
  return buf;
}

std::filesystem::path TestRepo::LooseObjectPath(const std::string& id) const {
  std::filesystem::path git_dir = bare_ ? path_ : path_ / ".git";
  return git_dir / "objects" / id.substr(0, 2) / id.substr(2);
}

void TestRepo::PackAll() {
  git_packbuilder* pb = nullptr;
  ASSERT_EQ(git_packbuilder_new(&pb, repo_), 0);
  git_revwalk* walk = nullptr;
  ASSERT_EQ(git_revwalk_new(&walk, repo_), 0);
  ASSERT_EQ(git_revwalk_push_head(walk), 0);
  ASSERT_EQ(git_packbuilder_insert_walk(pb, walk), 0);
  const std::filesystem::path objects = (bare_ ? path_ : path_ / ".git") / "objects";
  ASSERT_EQ(git_packbuilder_write(pb, (objects / "pack").c_str(), 0, nullptr, nullptr), 0);
  git_revwalk_free(walk);
  git_packbuilder_free(pb);
  for (const auto& dir : std::filesystem::directory_iterator(objects)) {
    const std::string name = dir.path().filename().string();
    if (name.size() == 2) std::filesystem::remove_all(dir.path());
  }
}

}  // namespace tune::testing

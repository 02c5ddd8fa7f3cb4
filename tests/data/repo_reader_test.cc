#include "data/repo_reader.h"

#include <gtest/gtest.h>

#include <fstream>

#include "tests/data/test_repo.h"
#include "tests/support/temp_dir.h"

namespace tune::data {
namespace {

using ::tune::testing::TempDir;
using ::tune::testing::TestRepo;

TEST(RepoReaderTest, ListsTreeFromObjectDatabaseOnly) {
  TempDir dir;
  TestRepo repo(dir.path() / "r");
  std::string c1 =
      repo.Commit({{"src/a.py", "print(1)\n"},
                   {"gen/out.c", "int x;\n"},
                   {"lib/ext.js", "x()\n"},
                   {".gitattributes", "gen/** linguist-generated\nlib/ linguist-vendored\n"},
                   {"lib/.gitattributes", "keep.js -linguist-vendored\n"},
                   {"lib/keep.js", "y()\n"}});
  // Untracked and ignored files in the work tree must never appear.
  ::tune::testing::WriteTestFile(dir.path() / "r" / "untracked.py", "secret\n");
  auto reader = RepoReader::Open(dir.path() / "r");
  ASSERT_TRUE(reader.ok()) << reader.status();
  auto head = (*reader)->ResolveCommit("HEAD");
  ASSERT_TRUE(head.ok()) << head.status();
  EXPECT_EQ(*head, c1);
  auto files = (*reader)->ListFiles(*head);
  ASSERT_TRUE(files.ok()) << files.status();
  std::vector<std::string> paths;
  for (const TreeFile& f : *files) paths.push_back(f.path);
  EXPECT_EQ(paths, (std::vector<std::string>{".gitattributes", "gen/out.c", "lib/.gitattributes",
                                             "lib/ext.js", "lib/keep.js", "src/a.py"}));
  EXPECT_TRUE((*files)[1].attr_generated);
  EXPECT_TRUE((*files)[3].attr_vendored);
  EXPECT_FALSE((*files)[4].attr_vendored);  // deeper .gitattributes overrides
  EXPECT_FALSE((*files)[5].attr_generated);
  EXPECT_EQ((*files)[5].size, 9u);
  auto blob = (*reader)->ReadBlob((*files)[5].blob_id);
  ASSERT_TRUE(blob.ok());
  EXPECT_EQ(*blob, "print(1)\n");
  EXPECT_EQ(*(*reader)->ReadBlobHead((*files)[5].blob_id, 5), "print");
  EXPECT_EQ(*(*reader)->ReadBlobHead((*files)[5].blob_id, 100), "print(1)\n");
}

// Packed objects cannot be streamed by libgit2: ReadBlobHead reads them whole and cuts.
TEST(RepoReaderTest, PackedObjectsReadWholeAndHead) {
  TempDir dir;
  TestRepo repo(dir.path() / "repo");
  repo.Commit({{"a.py", "print(1)\n"}, {"b.txt", std::string(100000, 'b')}});
  repo.PackAll();
  auto reader = RepoReader::Open(dir.path() / "repo");
  ASSERT_TRUE(reader.ok()) << reader.status();
  auto files = (*reader)->ListFiles(*(*reader)->ResolveCommit("HEAD"));
  ASSERT_TRUE(files.ok()) << files.status();
  ASSERT_EQ(files->size(), 2u);
  EXPECT_FALSE(std::filesystem::exists(repo.LooseObjectPath((*files)[0].blob_id)));
  EXPECT_EQ(*(*reader)->ReadBlob((*files)[0].blob_id), "print(1)\n");
  EXPECT_EQ(*(*reader)->ReadBlobHead((*files)[0].blob_id, 5), "print");
  EXPECT_EQ(*(*reader)->ReadBlobHead((*files)[1].blob_id, 4096), std::string(4096, 'b'));
}

TEST(RepoReaderTest, BareRepoHistoryAndDiff) {
  TempDir dir;
  TestRepo repo(dir.path() / "bare.git", /*bare=*/true);
  std::string c1 = repo.Commit({{"a.py", "1\n"}, {"b.py", "2\n"}}, 1000);
  std::string c2 = repo.Commit({{"a.py", "1\n"}, {"b.py", "22\n"}, {"c.py", "3\n"}}, 2000);
  std::string c3 = repo.Commit({{"a.py", "111\n"}, {"c.py", "3\n"}}, 3000);
  auto reader = RepoReader::Open(dir.path() / "bare.git");
  ASSERT_TRUE(reader.ok()) << reader.status();
  EXPECT_EQ(*(*reader)->ResolveCommit("HEAD~1"), c2);
  auto all = (*reader)->RecentCommits(c3, 0, 0);
  ASSERT_TRUE(all.ok());
  EXPECT_EQ(*all, (std::vector<std::string>{c3, c2, c1}));
  EXPECT_EQ(*(*reader)->RecentCommits(c3, 2, 0), (std::vector<std::string>{c3, c2}));
  EXPECT_EQ(*(*reader)->RecentCommits(c3, 0, 2000), (std::vector<std::string>{c3, c2}));
  auto changed = (*reader)->ChangedPaths(c1, c3);
  ASSERT_TRUE(changed.ok());
  EXPECT_EQ(*changed, (std::vector<std::string>{"a.py", "c.py"}));
}

TEST(RepoReaderTest, BadInputsGiveClearErrors) {
  TempDir dir;
  auto not_repo = RepoReader::Open(dir.path());
  EXPECT_EQ(not_repo.status().code(), absl::StatusCode::kNotFound);
  EXPECT_NE(not_repo.status().message().find("is not a git repository"), std::string::npos);

  TestRepo empty(dir.path() / "empty");
  auto reader = RepoReader::Open(dir.path() / "empty");
  ASSERT_TRUE(reader.ok());
  auto head = (*reader)->ResolveCommit("HEAD");
  EXPECT_EQ(head.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_NE(head.status().message().find("no commits"), std::string::npos);

  TestRepo repo(dir.path() / "r");
  repo.Commit({{"a.py", "x = 1\n"}});
  auto r2 = RepoReader::Open(dir.path() / "r");
  ASSERT_TRUE(r2.ok());
  auto bad = (*r2)->ResolveCommit("no-such-branch");
  EXPECT_EQ(bad.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(bad.status().message().find("no-such-branch"), std::string::npos);

  // Unreadable object: delete the loose blob behind a.py.
  auto files = (*r2)->ListFiles(*(*r2)->ResolveCommit("HEAD"));
  ASSERT_TRUE(files.ok());
  std::filesystem::remove(repo.LooseObjectPath((*files)[0].blob_id));
  auto r3 = RepoReader::Open(dir.path() / "r");
  ASSERT_TRUE(r3.ok());
  auto blob = (*r3)->ReadBlob((*files)[0].blob_id);
  EXPECT_EQ(blob.status().code(), absl::StatusCode::kDataLoss);
  EXPECT_NE(blob.status().message().find((*files)[0].blob_id), std::string::npos);
}

}  // namespace
}  // namespace tune::data

#include "data/dataset.h"

#include <gtest/gtest.h>

#include <sstream>

#include "absl/strings/str_format.h"
#include "core/file.h"
#include "data/blob_cache.h"
#include "data/heldout.h"
#include "data/ingest.h"
#include "tests/data/test_repo.h"
#include "tests/support/temp_dir.h"

namespace tune::data {
namespace {

using ::tune::testing::FixturePath;
using ::tune::testing::TempDir;
using ::tune::testing::TestRepo;

TEST(BlobCacheTest, RoundTripsAndRejectsOtherFingerprintsAndCorruption) {
  TempDir dir;
  BlobCache cache("fp1");
  cache.Put("aa", "x.py", {DropReason::kKept, "python", {{3, 9, 2}}, {1, 2, 3}});
  cache.Put("bb", "y.js", {DropReason::kLongLines, "javascript", {}, {}});
  ASSERT_TRUE(cache.Save(dir / "c.bin").ok());
  auto loaded = BlobCache::Load(dir / "c.bin", "fp1");
  ASSERT_TRUE(loaded.ok()) << loaded.status();
  EXPECT_EQ(loaded->size(), 2u);
  const BlobRecord* r = loaded->Find("aa", "x.py");
  ASSERT_NE(r, nullptr);
  EXPECT_EQ(r->language, "python");
  ASSERT_EQ(r->redactions.size(), 1u);
  EXPECT_EQ(r->redactions[0].end, 9u);
  EXPECT_EQ(r->signature, (MinHashSignature{1, 2, 3}));
  EXPECT_EQ(loaded->Find("bb", "y.js")->reason, DropReason::kLongLines);
  EXPECT_EQ(loaded->Find("aa", "renamed.py"), nullptr);  // keyed by blob id + path

  EXPECT_EQ(BlobCache::Load(dir / "c.bin", "fp2").status().code(),
            absl::StatusCode::kFailedPrecondition);
  std::string bytes = *core::ReadFile(dir / "c.bin");
  bytes[bytes.size() / 2] ^= 0x40;
  ASSERT_TRUE(core::WriteFileAtomic(dir / "bad.bin", bytes).ok());
  EXPECT_EQ(BlobCache::Load(dir / "bad.bin", "fp1").status().code(), absl::StatusCode::kDataLoss);
  EXPECT_EQ(BlobCache::Load(dir / "none.bin", "fp1").status().code(), absl::StatusCode::kNotFound);
}

TEST(ManifestTest, RoundTripsAndRejectsOtherVersions) {
  TempDir dir;
  DatasetManifest m;
  m.repo = "/r";
  m.rev = "HEAD";
  m.commit = std::string(40, 'a');
  m.repo_name = "r";
  m.tokenizer_path = "/t.json";
  m.tokenizer_fingerprint = "f";
  m.vocab_size = 10;
  m.config_fingerprint = "c";
  m.config_json = "{\"fim_rate\":0.5}";
  m.shards = {{"train-00000.tshard", "train", 5, 1, 0xdeadbeefULL}};
  m.train_tokens = 5;
  ASSERT_TRUE(core::WriteFileAtomic(dir / "manifest.json", ManifestToJson(m)).ok());
  auto read = ReadManifest(dir.path());
  ASSERT_TRUE(read.ok()) << read.status();
  EXPECT_EQ(read->commit, m.commit);
  EXPECT_EQ(read->shards[0].checksum, 0xdeadbeefULL);
  EXPECT_EQ(read->config_json, m.config_json);

  std::string text = ManifestToJson(m);
  text.replace(text.find("\"format_version\": 1"), 19, "\"format_version\": 7");
  ASSERT_TRUE(core::WriteFileAtomic(dir / "manifest.json", text).ok());
  auto other = ReadManifest(dir.path());
  EXPECT_EQ(other.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_NE(other.status().message().find("format_version 7"), std::string::npos);

  ASSERT_TRUE(core::WriteFileAtomic(dir / "manifest.json", "{\"format_version\": 1}").ok());
  auto missing = ReadManifest(dir.path());
  EXPECT_EQ(missing.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(missing.status().message().find("source"), std::string::npos);
}

// Found by fuzz/dataset (fuzz/regressions/dataset/): numbers were converted unchecked, undefined
// behaviour for a float out of the int range, a silent wrap for a negative or huge integer.
TEST(ManifestTest, NumbersOfTheWrongKindOrRangeAreErrors) {
  TempDir dir;
  DatasetManifest m;
  m.config_json = "{}";
  m.shards = {{"train-00000.tshard", "train", 5, 1, 0}};
  const std::string text = ManifestToJson(m);
  auto with = [&](const std::string& from, const std::string& to) {
    std::string changed = text;
    changed.replace(changed.find(from), from.size(), to);
    EXPECT_TRUE(core::WriteFileAtomic(dir / "manifest.json", changed).ok());
    return ReadManifest(dir.path()).status();
  };
  for (const char* version : {"1.5e20", "1e300", "4294967297", "1.5", "\"1\""}) {
    const absl::Status status = with("\"format_version\": 1", std::string("\"format_version\": ") + version);
    EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument) << version;
    EXPECT_NE(status.message().find("field format_version:"), std::string::npos) << status;
  }
  for (const char* size : {"1.5e20", "4294967296", "-1.5", "2.5", "true"}) {
    const absl::Status status = with("\"vocab_size\": 0", std::string("\"vocab_size\": ") + size);
    EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument) << size;
    EXPECT_NE(status.message().find("field tokenizer.vocab_size:"), std::string::npos) << status;
  }
  for (const char* tokens : {"-1", "1e30", "18446744073709551616"}) {
    const absl::Status status = with("\"tokens\": 5", std::string("\"tokens\": ") + tokens);
    EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument) << tokens;
    EXPECT_NE(status.message().find("field shards[0].tokens:"), std::string::npos) << status;
  }
  EXPECT_TRUE(with("\"vocab_size\": 0", "\"vocab_size\": 2147483647").ok());

  SplitRecord split;
  std::string split_text = SplitToJson(split);
  split_text.replace(split_text.find("\"split_seed\": 0"), 15, "\"split_seed\": 1e30");
  ASSERT_TRUE(core::WriteFileAtomic(dir / "split.json", split_text).ok());
  EXPECT_NE(ReadSplit(dir.path()).status().message().find("field split_seed:"), std::string::npos);
}

TEST(HeldOutTest, RoundTripsAndNamesTheBadLine) {
  TempDir dir;
  HeldOutSet set{std::string(40, 'c'), "proj", {}};
  set.files.push_back({"a.py", "python", "def f():\n    return \"\\u00e9 \xc3\xa9\"\n", {{"b.py", "x = 1\n"}}});
  set.files.push_back({"src/z.go", "go", "package z\n", {}});
  ASSERT_TRUE(WriteHeldOut(dir.path(), set).ok());
  absl::StatusOr<HeldOutSet> read = ReadHeldOut(dir.path());
  ASSERT_TRUE(read.ok()) << read.status();
  EXPECT_EQ(read->commit, set.commit);
  EXPECT_EQ(read->repo_name, "proj");
  ASSERT_EQ(read->files.size(), 2u);
  EXPECT_EQ(read->files[0].text, set.files[0].text);
  EXPECT_EQ(read->files[0].context[0].path, "b.py");
  EXPECT_EQ(read->files[0].context[0].text, "x = 1\n");
  EXPECT_EQ(read->files[1].language, "go");

  std::string text = *core::ReadFile(dir / kHeldOutFileName);
  auto expect_error = [&](const std::string& contents, absl::StatusCode code, const std::string& what) {
    ASSERT_TRUE(core::WriteFileAtomic(dir / kHeldOutFileName, contents).ok());
    absl::StatusOr<HeldOutSet> bad = ReadHeldOut(dir.path());
    EXPECT_EQ(bad.status().code(), code) << bad.status();
    EXPECT_NE(bad.status().message().find(what), std::string::npos) << bad.status();
    EXPECT_NE(bad.status().message().find("heldout.jsonl"), std::string::npos) << bad.status();
  };
  size_t second_line = text.find('\n') + 1;
  expect_error(text.substr(0, text.size() - 1), absl::StatusCode::kDataLoss, "line 3");
  expect_error(text.substr(0, text.rfind('\n', text.size() - 2) + 1), absl::StatusCode::kDataLoss,
               "the header lists 2 files but 1 follow");
  expect_error(text.substr(0, second_line) + "{\"path\": 3}\n", absl::StatusCode::kDataLoss, "line 2");
  expect_error(text.substr(0, second_line) + "[1]\n", absl::StatusCode::kDataLoss, "line 2");
  std::string v2 = text;
  v2.replace(v2.find("\"format_version\":1"), 18, "\"format_version\":2");
  expect_error(v2, absl::StatusCode::kFailedPrecondition, "format_version 2");
  expect_error("", absl::StatusCode::kDataLoss, "empty");
  expect_error("{\"format\":\"tune-heldout\",\"format_version\":1}\n", absl::StatusCode::kDataLoss,
               "line 1' field commit: is missing");
  expect_error("{\"format\":\"tune-dataset\",\"format_version\":1}\n", absl::StatusCode::kDataLoss,
               "line 1' field format: is not \"tune-heldout\"");
  // Found by fuzz/heldout: numbers of the wrong kind were converted unchecked (UB for floats).
  const std::string header_start = "{\"format\":\"tune-heldout\",\"format_version\":";
  for (const char* files : {"1.5", "2.5e20", "-1", "1e30", "\"2\""}) {
    expect_error(header_start + "1,\"commit\":\"c\",\"repo_name\":\"p\",\"files\":" + files + "}\n",
                 absl::StatusCode::kDataLoss, "line 1' field files:");
  }
  expect_error(header_start + "1e30,\"commit\":\"c\",\"repo_name\":\"p\",\"files\":0}\n",
               absl::StatusCode::kDataLoss, "line 1' field format_version:");
  expect_error(text.substr(0, second_line) +
                   "{\"path\":\"a.py\",\"language\":\"python\",\"text\":\"\",\"context\":[{\"path\":1}]}\n",
               absl::StatusCode::kDataLoss, "line 2' field context[0].path: has the wrong type");
  expect_error(text + text.substr(second_line, text.find('\n', second_line) + 1 - second_line),
               absl::StatusCode::kDataLoss, "line 4: more files than the header lists");

  std::filesystem::remove(dir / kHeldOutFileName);
  absl::StatusOr<HeldOutSet> missing = ReadHeldOut(dir.path());
  EXPECT_EQ(missing.status().code(), absl::StatusCode::kNotFound);
  EXPECT_NE(missing.status().message().find("re-run `tune ingest`"), std::string::npos);
}

TEST(DumpShardsTest, DecodesWithSentinelsAndHonoursLimit) {
  TempDir dir;
  TestRepo repo(dir / "repo");
  repo.Commit({{"a.py", "def alpha():\n    return 1\n"}, {"b.py", "def beta():\n    return 2\n"}});
  IngestOptions o;
  o.repo = dir / "repo";
  o.out = dir / "ds";
  o.tokenizer = FixturePath("tokenizers/qwen3/tokenizer.json");
  o.eval_fraction = 0;
  o.fim.fim_rate = 1;
  o.fim.repo_context_rate = 0;
  o.progress = false;
  ASSERT_TRUE(RunIngest(o).ok());
  std::ostringstream decoded;
  ASSERT_TRUE(DumpShards(dir / "ds", /*decode=*/true, /*limit=*/1, decoded).ok());
  std::string text = decoded.str();
  EXPECT_NE(text.find("<|fim_prefix|>"), std::string::npos) << text;
  EXPECT_NE(text.find("<|fim_middle|>"), std::string::npos) << text;
  EXPECT_NE(text.find("document 0"), std::string::npos);
  EXPECT_EQ(text.find("document 1"), std::string::npos);  // --limit 1
  std::ostringstream ids;
  ASSERT_TRUE(DumpShards(dir / "ds", /*decode=*/false, /*limit=*/5, ids).ok());
  EXPECT_NE(ids.str().find("document 1"), std::string::npos);
  EXPECT_EQ(ids.str().find("<|fim_prefix|>"), std::string::npos);
  EXPECT_EQ(DumpShards(dir / "nope", false, 1, ids).code(), absl::StatusCode::kNotFound);
}

}  // namespace
}  // namespace tune::data

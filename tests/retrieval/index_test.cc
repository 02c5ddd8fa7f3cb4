#include "retrieval/index.h"

#include <gtest/gtest.h>

#include <fstream>

#include "core/file.h"
#include "tests/support/temp_dir.h"

namespace tune::retrieval {
namespace {

IndexedFile File(std::string path, bool heldout, std::vector<IndexedChunk> chunks) {
  return IndexedFile{std::move(path), "python", "", heldout, std::move(chunks)};
}

// A query whose text is all near the cursor.
struct QueryArgs {
  std::string text, exclude;
  bool exclude_heldout;
  int k;
};
Query Q(const QueryArgs& a) { return Query{a.text, a.text, a.exclude, a.exclude_heldout, a.k, {}}; }

Index Sample() {
  std::vector<IndexedFile> files;
  files.push_back(File("money.py", false,
                       {{1, "def format_cents(amount_cents, currency_code):\n    return f'{amount_cents}'\n",
                         {"format_cents"}},
                        {4, "def parse_money(text):\n    return int(text)\n", {"parse_money"}}}));
  files.push_back(File("orders.py", false,
                       {{1, "class Order:\n    def total(self):\n        return sum(self.lines)\n",
                         {"Order", "total"}}}));
  files.push_back(File("secret_heldout.py", true,
                       {{1, "def format_cents_v2(amount_cents, currency_code):\n    pass\n", {"format_cents_v2"}}}));
  for (int i = 0; i < 20; ++i) {
    files.push_back(File("filler" + std::to_string(i) + ".py", false,
                         {{1, "import os\nx = os.path.join('a', 'b')\n", {}}}));
  }
  return Index("c0ffee", "shop", std::move(files));
}

TEST(IndexTest, RanksTheChunkSharingTheRarestIdentifiersFirst) {
  const Index index = Sample();
  const std::vector<Hit> hits = index.Search(Q({"label = render(amount_cents, currency_code)\n", "", true, 3}));
  // Only format_cents's chunk shares a term (the held-out copy is excluded).
  ASSERT_EQ(hits.size(), 1u);
  EXPECT_EQ(index.chunk(hits[0]).defines, std::vector<std::string>{"format_cents"});
  EXPECT_GT(hits[0].score, 0);
  // With the held-out copy allowed, both come back, best first.
  const std::vector<Hit> both = index.Search(Q({"label = render(amount_cents, currency_code)\n", "", false, 3}));
  ASSERT_EQ(both.size(), 2u);
  EXPECT_GE(both[0].score, both[1].score);
}

TEST(IndexTest, ADefinitionOfANameInTheQueryOutranksWordOverlap) {
  const Index index = Sample();
  // `parse_money` is called: its definition wins over the chunk that shares more words.
  const std::vector<Hit> hits = index.Search(Q({"value = parse_money(amount_cents currency_code text)", "", false, 1}));
  ASSERT_EQ(hits.size(), 1u);
  EXPECT_EQ(index.chunk(hits[0]).line, 4u);
  EXPECT_EQ(index.Defining("parse_money"), (std::vector<std::pair<uint32_t, uint32_t>>{{0, 1}}));
  EXPECT_TRUE(index.Defining("nothing").empty());
}

TEST(IndexTest, ExcludesTheQueryFileAndHeldOutFilesWhenAsked) {
  const Index index = Sample();
  const std::string q = "format_cents_v2(amount_cents, currency_code)";
  std::vector<Hit> hits = index.Search(Q({q, "", false, 1}));
  ASSERT_EQ(hits.size(), 1u);
  EXPECT_EQ(index.path(hits[0]), "secret_heldout.py");
  hits = index.Search(Q({q, "", true, 5}));
  for (const Hit& h : hits) EXPECT_NE(index.path(h), "secret_heldout.py");
  hits = index.Search(Q({q, "money.py", true, 5}));
  for (const Hit& h : hits) EXPECT_NE(index.path(h), "money.py");
  // A skipped hit does not take one of the k places.
  Query skipping = Q({q, "", false, 1});
  skipping.skip = [](const IndexedFile& f, const IndexedChunk&) { return f.path == "secret_heldout.py"; };
  hits = index.Search(skipping);
  ASSERT_EQ(hits.size(), 1u);
  EXPECT_EQ(index.path(hits[0]), "money.py");
  EXPECT_TRUE(index.Search(Q({"zzz_unknown qqq", "", false, 4})).empty());
  EXPECT_TRUE(index.Search(Q({q, "", false, 0})).empty());
  EXPECT_TRUE(Index().Search(Q({q, "", false, 4})).empty());
}

TEST(IndexTest, NamesAtTheCursorOutweighNamesFurtherAway) {
  const Index index("c", "r",
                    {File("a.py", false, {{1, "def alpha_fn(x):\n    return x\n", {"alpha_fn"}}}),
                     File("b.py", false, {{1, "def beta_fn(y):\n    return y\n", {"beta_fn"}}})});
  const Query at_beta = CursorQuery("a = alpha_fn(1)\nfor i in range(3):\n    pass\nb = beta_fn(", ")\n");
  EXPECT_EQ(at_beta.near, "for i in range(3):\n    pass\nb = beta_fn()");
  std::vector<Hit> hits = index.Search(at_beta);
  ASSERT_EQ(hits.size(), 2u);
  EXPECT_EQ(index.path(hits[0]), "b.py");
  hits = index.Search(CursorQuery("b = beta_fn(1)\nfor i in range(3):\n    pass\na = alpha_fn(", ")\n"));
  ASSERT_EQ(hits.size(), 2u);
  EXPECT_EQ(index.path(hits[0]), "a.py");
}

TEST(IndexTest, NearCopiesOfABetterHitAreLeftOut) {
  std::vector<IndexedFile> files;
  for (int i = 0; i < 6; ++i) {
    files.push_back(File("app/h" + std::to_string(i) + ".py", false,
                         {{1,
                           "def handle_" + std::to_string(i) + "(request):\n    ledger_rows = request.get('ledger_rows')\n"
                           "    vexo_rate = request.get('vexo_rate')\n    return ledger_util.vexo_total(ledger_rows, vexo_rate)\n",
                           {"handle_" + std::to_string(i)}}}));
  }
  files.push_back(File("lib/ledger_util.py", false,
                       {{1, "def vexo_total(ledger_rows, vexo_rate):\n    return sum(ledger_rows) * vexo_rate\n",
                         {"vexo_total"}}}));
  const Index index("c", "r", std::move(files));
  const std::vector<Hit> hits = index.Search(Q({"ledger_rows = request.get('ledger_rows')\nvexo_rate = x\n", "", false, 3}));
  ASSERT_EQ(hits.size(), 2u);  // one of the six copies, and the definition
  EXPECT_TRUE(index.path(hits[0]) == "lib/ledger_util.py" || index.path(hits[1]) == "lib/ledger_util.py");
}

TEST(IndexTest, WritesAndReadsBackTheSameIndex) {
  testing::TempDir dir;
  const Index index = Sample();
  ASSERT_TRUE(index.Write(dir.path()).ok());
  absl::StatusOr<Index> read = Index::Read(dir.path());
  ASSERT_TRUE(read.ok()) << read.status();
  EXPECT_EQ(read->commit(), "c0ffee");
  EXPECT_EQ(read->repo_name(), "shop");
  ASSERT_EQ(read->files().size(), index.files().size());
  EXPECT_EQ(read->num_chunks(), index.num_chunks());
  EXPECT_TRUE(read->files()[2].heldout);
  EXPECT_EQ(read->files()[1].chunks[0].defines, (std::vector<std::string>{"Order", "total"}));
  const Query q = Q({"amount_cents currency_code parse_money", "", false, 3});
  const std::vector<Hit> a = index.Search(q), b = read->Search(q);
  ASSERT_EQ(a.size(), b.size());
  for (size_t i = 0; i < a.size(); ++i) {
    EXPECT_EQ(a[i].file, b[i].file);
    EXPECT_EQ(a[i].chunk, b[i].chunk);
    EXPECT_FLOAT_EQ(a[i].score, b[i].score);
  }
  // The file itself can be named too.
  EXPECT_TRUE(Index::Read(dir.path() / kIndexFileName).ok());
}

TEST(IndexTest, BadFilesAreErrorsThatNameTheFileAndLine) {
  testing::TempDir dir;
  const std::filesystem::path file = dir.path() / kIndexFileName;
  EXPECT_TRUE(absl::IsNotFound(Index::Read(dir.path()).status()));
  EXPECT_NE(Index::Read(dir.path()).status().message().find("tune ingest"), std::string::npos);
  const std::string header =
      R"({"format":"tune-retrieval-index","format_version":1,"commit":"c","repo_name":"r","files":1})";
  const std::string good_file = R"({"path":"a.py","language":"python","blob":"b","heldout":false,"chunks":[{"line":1,"text":"x","defines":[]}]})";
  struct Case {
    std::string contents;
    std::string message;
    absl::StatusCode code;
  };
  const std::vector<Case> cases = {
      {"", "line 1: empty file", absl::StatusCode::kDataLoss},
      {header + "\n" + good_file, "line 2: no final newline", absl::StatusCode::kDataLoss},
      {header + "\n", "header lists 1 files but 0 follow", absl::StatusCode::kDataLoss},
      {header + "\n" + good_file + "\n" + good_file + "\n", "line 3: more files", absl::StatusCode::kDataLoss},
      {R"({"format":"tune-retrieval-index","format_version":9,"commit":"c","repo_name":"r","files":0})" "\n",
       "format_version 9", absl::StatusCode::kFailedPrecondition},
      {R"({"format":"tune-heldout"})" "\n", "field format: is not", absl::StatusCode::kDataLoss},
      {R"({"format":"tune-retrieval-index","format_version":1,"commit":"c","repo_name":"r","files":-1})" "\n",
       "line 1' field files: has the wrong type", absl::StatusCode::kDataLoss},
      {header + "\n" + R"({"path":"a.py","language":"python","blob":"b","heldout":false,"chunks":[{"line":1.5e30,"text":"x","defines":[]}]})" "\n",
       "line 2' field chunks[0].line: has the wrong type", absl::StatusCode::kDataLoss},
      {header + "\n" + R"({"path":"a.py","language":"python","blob":"b","heldout":false,"chunks":[{"line":1,"text":"x","defines":[3]}]})" "\n",
       "field chunks[0].defines: holds something other than a string", absl::StatusCode::kDataLoss},
      {header + "\n" + R"({"path":"a.py","heldout":false,"chunks":[]})" "\n", "line 2' field language: is missing",
       absl::StatusCode::kDataLoss},
      {header + "\n[1]\n", "line 2: not a JSON object", absl::StatusCode::kDataLoss},
  };
  for (const Case& c : cases) {
    ASSERT_TRUE(core::WriteFileAtomic(file, c.contents).ok());
    const absl::Status s = Index::Read(dir.path()).status();
    EXPECT_EQ(s.code(), c.code) << c.contents << "\n" << s;
    EXPECT_NE(s.message().find(c.message), std::string::npos) << s;
    EXPECT_NE(s.message().find(file.string()), std::string::npos) << s;
  }
}

}  // namespace
}  // namespace tune::retrieval

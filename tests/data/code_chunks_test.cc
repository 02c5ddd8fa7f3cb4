#include "data/code_chunks.h"

#include <gtest/gtest.h>

#include <string>

namespace tune::data {
namespace {

using retrieval::IndexedChunk;

std::string Lines(int n, const std::string& stem) {
  std::string out;
  for (int i = 0; i < n; ++i) out += stem + std::to_string(i) + " = " + std::to_string(i) + "\n";
  return out;
}

TEST(CodeChunksTest, EachFittingDefinitionIsOneChunkAndGapsAreWindows) {
  const std::string text =
      "import os\n"
      "\n"
      "def parse_money(text):\n"
      "    return int(text)\n"
      "\n"
      "class Order:\n"
      "    def total(self):\n"
      "        return 1\n"
      "x = 3\n";
  const std::vector<IndexedChunk> chunks = ChunkSource("python", text, ChunkOptions{});
  ASSERT_EQ(chunks.size(), 4u);
  EXPECT_EQ(chunks[0].line, 1u);
  EXPECT_EQ(chunks[0].text, "import os\n\n");
  EXPECT_EQ(chunks[1].line, 3u);
  EXPECT_EQ(chunks[1].text, "def parse_money(text):\n    return int(text)\n");
  EXPECT_EQ(chunks[1].defines, std::vector<std::string>{"parse_money"});
  EXPECT_EQ(chunks[2].line, 6u);
  EXPECT_EQ(chunks[2].defines, (std::vector<std::string>{"Order", "total"}));
  EXPECT_EQ(chunks[3].text, "x = 3\n");  // the blank line between the definitions is dropped
}

TEST(CodeChunksTest, ADefinitionTooBigForAChunkIsCutIntoItsMethods) {
  const std::string text = "class Big:\n" + std::string("    def a(self):\n") + "        return 1\n" +
                           "    def b(self):\n" + Lines(50, "        v") + "    def c(self):\n" +
                           "        return 3\n";
  const std::vector<IndexedChunk> chunks = ChunkSource("python", text, ChunkOptions{40, 4096});
  // "class Big:" window, def a, def b's 51 lines as windows of 40 + 11, def c.
  ASSERT_EQ(chunks.size(), 5u);
  EXPECT_EQ(chunks[0].text, "class Big:\n");
  EXPECT_EQ(chunks[0].defines, std::vector<std::string>{"Big"});
  EXPECT_EQ(chunks[1].defines, std::vector<std::string>{"a"});
  EXPECT_EQ(chunks[2].defines, std::vector<std::string>{"b"});
  EXPECT_EQ(chunks[2].line, 4u);
  EXPECT_EQ(chunks[3].line, 44u);
  EXPECT_TRUE(chunks[3].defines.empty());
  EXPECT_EQ(chunks[4].defines, std::vector<std::string>{"c"});
  for (const IndexedChunk& c : chunks) EXPECT_LE(std::count(c.text.begin(), c.text.end(), '\n'), 40);
}

TEST(CodeChunksTest, NamesAcrossGrammars) {
  struct Case {
    std::string language, text, name;
  };
  const std::vector<Case> cases = {
      {"cpp", "int Ledger::Balance(const Account* a) const {\n  return a->cents;\n}\n", "Balance"},
      {"cpp", "static char *copy_name(const char *s) {\n  return 0;\n}\n", "copy_name"},
      {"c", "struct point {\n  int x, y;\n};\nstruct point origin;\n", "point"},
      {"go", "type Money struct {\n\tCents int64\n}\n", "Money"},
      {"go", "func (m Money) Format() string {\n\treturn \"\"\n}\n", "Format"},
      {"rust", "pub fn parse_money(s: &str) -> i64 {\n    0\n}\n", "parse_money"},
      {"java", "class A {\n  int total(int x) { return x; }\n}\n", "total"},
      {"javascript", "function formatCents(c) {\n  return c;\n}\n", "formatCents"},
      {"typescript", "interface Money {\n  cents: number;\n}\n", "Money"},
  };
  for (const Case& c : cases) {
    bool found = false;
    for (const IndexedChunk& chunk : ChunkSource(c.language, c.text, ChunkOptions{})) {
      found |= std::find(chunk.defines.begin(), chunk.defines.end(), c.name) != chunk.defines.end();
    }
    EXPECT_TRUE(found) << c.language << ": " << c.text;
  }
}

TEST(CodeChunksTest, FilesWithoutAGrammarAreWindowsOfLinesAndBytes) {
  const std::string text = Lines(100, "k");
  std::vector<IndexedChunk> chunks = ChunkSource("toml", text, ChunkOptions{40, 4096});
  ASSERT_EQ(chunks.size(), 3u);
  EXPECT_EQ(chunks[1].line, 41u);
  EXPECT_EQ(chunks[2].line, 81u);
  chunks = ChunkSource("toml", text, ChunkOptions{40, 100});
  for (const IndexedChunk& c : chunks) EXPECT_LE(c.text.size(), 100u);
  EXPECT_GT(chunks.size(), 7u);
  EXPECT_TRUE(ChunkSource("python", "", ChunkOptions{}).empty());
  EXPECT_TRUE(ChunkSource("python", "\n\n  \n", ChunkOptions{}).empty());
  // No final newline, and text that does not parse, still end up whole in the chunks.
  chunks = ChunkSource("python", "def f(:\n  x", ChunkOptions{});
  ASSERT_EQ(chunks.size(), 1u);
  EXPECT_EQ(chunks[0].text, "def f(:\n  x");
}

}  // namespace
}  // namespace tune::data

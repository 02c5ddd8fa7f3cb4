#include "tokenizer/debug_tokenize.h"

#include <gtest/gtest.h>

#include "tests/support/temp_dir.h"

namespace tune::tokenizer {
namespace {

DebugTokenizeOptions Options() {
  DebugTokenizeOptions o;
  o.tokenizer = tune::testing::FixturePath("tokenizers/qwen3");
  return o;
}

TEST(DebugTokenize, EncodesToJsonArrayAndDecodesBack) {
  DebugTokenizeOptions o = Options();
  o.text = "Hello world";
  auto ids = DebugTokenize(o);
  ASSERT_TRUE(ids.ok()) << ids.status();
  EXPECT_EQ(*ids, "[9707,1879]");
  o.text = *ids;
  o.decode = true;
  auto text = DebugTokenize(o);
  ASSERT_TRUE(text.ok()) << text.status();
  EXPECT_EQ(*text, "Hello world");
}

TEST(DebugTokenize, TextFileAndParseSpecial) {
  tune::testing::TempDir dir;
  tune::testing::WriteTestFile(dir / "in.txt", "<|endoftext|>text");
  DebugTokenizeOptions o = Options();
  o.text_file = dir / "in.txt";
  o.parse_special = true;
  auto ids = DebugTokenize(o);
  ASSERT_TRUE(ids.ok()) << ids.status();
  EXPECT_EQ(*ids, "[151643,1318]");
}

TEST(DebugTokenize, RejectsBadInput) {
  DebugTokenizeOptions o = Options();
  EXPECT_EQ(DebugTokenize(o).status().code(), absl::StatusCode::kInvalidArgument);  // no text
  o.text = "[1, -2]";
  o.decode = true;
  EXPECT_EQ(DebugTokenize(o).status().code(), absl::StatusCode::kInvalidArgument);
  o.text = "[99999999]";
  EXPECT_EQ(DebugTokenize(o).status().code(), absl::StatusCode::kInvalidArgument);
  o.tokenizer = "/nonexistent/dir";
  EXPECT_FALSE(DebugTokenize(o).ok());
}

}  // namespace
}  // namespace tune::tokenizer

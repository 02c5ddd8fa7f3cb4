#include "inference/stop_rules.h"

#include <string>
#include <vector>

#include "gtest/gtest.h"

namespace tune::inference {
namespace {

// Feeds pieces and collects what would be streamed.
struct Feeder {
  explicit Feeder(CompletionRequest r) : scanner(r) {}
  bool Feed(const std::vector<std::string>& pieces) {
    for (const std::string& p : pieces) {
      const bool stop = scanner.Append(p);
      streamed += scanner.TakeSettled();
      if (stop) return true;
    }
    return false;
  }
  StopScanner scanner;
  std::string streamed;
};

TEST(StopRulesTest, StopStringEndsTextBeforeItEvenAcrossPieces) {
  CompletionRequest r;
  r.stop = {"<END>", "\n\n"};
  Feeder run(r);
  EXPECT_TRUE(run.Feed({"return x", "<E", "ND> more"}));
  EXPECT_EQ(run.scanner.text(), "return x");
  EXPECT_EQ(run.streamed, "return x");
  EXPECT_EQ(run.scanner.stop_type(), StopType::kWord);
  EXPECT_EQ(run.scanner.stopping_word(), "<END>");
}

TEST(StopRulesTest, PossibleStopPrefixIsHeldBackThenReleased) {
  CompletionRequest r;
  r.stop = {"<END>"};
  StopScanner s(r);
  EXPECT_FALSE(s.Append("a <E"));
  EXPECT_EQ(s.TakeSettled(), "a ");
  EXPECT_FALSE(s.Append("X"));
  EXPECT_EQ(s.TakeSettled(), "<EX");
  s.Finish(StopType::kLimit);
  EXPECT_EQ(s.TakeSettled(), "");
  EXPECT_EQ(s.text(), "a <EX");
}

TEST(StopRulesTest, EarliestStopStringWins) {
  CompletionRequest r;
  r.stop = {"zz", "b"};
  StopScanner s(r);
  EXPECT_TRUE(s.Append("abczz"));
  EXPECT_EQ(s.text(), "a");
  EXPECT_EQ(s.stopping_word(), "b");
}

TEST(StopRulesTest, UnderIndentedLineAfterNewlineIsCut) {
  CompletionRequest r;
  r.n_indent = 4;
  Feeder run(r);
  EXPECT_TRUE(run.Feed({"x = 1\n", "    y = 2\n", "  ", "z"}));
  EXPECT_EQ(run.scanner.text(), "x = 1\n    y = 2\n");
  EXPECT_EQ(run.streamed, "x = 1\n    y = 2\n");
  EXPECT_EQ(run.scanner.stop_type(), StopType::kLimit);
}

TEST(StopRulesTest, IndentRuleIgnoresBlankLinesAndTheFirstLine) {
  CompletionRequest r;
  r.n_indent = 4;
  StopScanner s(r);
  EXPECT_FALSE(s.Append("a\n"));  // the first line is the cursor line: any indent
  EXPECT_FALSE(s.Append("\n"));   // blank lines decide nothing
  EXPECT_FALSE(s.Append("    b"));
  EXPECT_EQ(s.text(), "a\n\n    b");
}

TEST(StopRulesTest, SingleLineStopsAtTheFirstNewlineAfterText) {
  CompletionRequest r;
  r.single_line = true;
  Feeder run(r);
  EXPECT_TRUE(run.Feed({"foo(", "a)\n", "bar"}));
  EXPECT_EQ(run.scanner.text(), "foo(a)");
  EXPECT_EQ(run.streamed, "foo(a)");
}

TEST(StopRulesTest, TimeLimitNeedsANewline) {
  CompletionRequest r;
  r.t_max_predict_ms = 10;
  StopScanner s(r);
  s.Append("abc");
  EXPECT_FALSE(s.TimeUp(50));  // no newline yet: keeps going (llama.cpp's rule)
  s.Append("\n");
  EXPECT_FALSE(s.TimeUp(5));
  EXPECT_TRUE(s.TimeUp(11));
  EXPECT_EQ(s.stop_type(), StopType::kLimit);
}

TEST(StopRulesTest, IncompleteUtf8IsHeldBack) {
  CompletionRequest r;
  StopScanner s(r);
  s.Append("a\xE2\x82");  // the first two bytes of U+20AC
  EXPECT_EQ(s.TakeSettled(), "a");
  s.Append("\xAC");
  EXPECT_EQ(s.TakeSettled(), "\xE2\x82\xAC");
}

}  // namespace
}  // namespace tune::inference

namespace tune::inference {
namespace {

// One token's decision in the engine's order: end-of-generation first (its piece is not text),
// then the stop rules, then the limit, then the time limit.
TEST(StopRulesTest, StepDecidesInTheEnginesOrder) {
  CompletionRequest r;
  r.stop = {"END"};
  StopScanner eos(r);
  EXPECT_FALSE(eos.Step(false, "ab", false, 0));
  EXPECT_TRUE(eos.Step(true, "", true, 0));
  EXPECT_EQ(eos.stop_type(), StopType::kEos);
  EXPECT_EQ(eos.text(), "ab");

  StopScanner word(r);
  EXPECT_TRUE(word.Step(false, "xEND", /*at_limit=*/true, 0));
  EXPECT_EQ(word.stop_type(), StopType::kWord);  // the rule wins over the limit on the same token
  EXPECT_EQ(word.text(), "x");

  StopScanner limit(r);
  EXPECT_TRUE(limit.Step(false, "y", true, 0));
  EXPECT_EQ(limit.stop_type(), StopType::kLimit);
  EXPECT_EQ(limit.text(), "y");

  r.t_max_predict_ms = 10;
  StopScanner slow(r);
  EXPECT_FALSE(slow.Step(false, "a", false, 50));  // time is up, but no newline yet
  EXPECT_TRUE(slow.Step(false, "\nb", false, 50));
  EXPECT_EQ(slow.stop_type(), StopType::kLimit);
}

}  // namespace
}  // namespace tune::inference

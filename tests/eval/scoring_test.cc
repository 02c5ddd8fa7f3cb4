#include "eval/scoring.h"

#include <gtest/gtest.h>

#include <vector>

namespace tune::eval {
namespace {

TEST(ScoringTest, ExactMatchIgnoresTrailingWhitespaceOnly) {
  EXPECT_TRUE(ExactMatch("return x;\n", "return x;"));
  EXPECT_TRUE(ExactMatch("a  ", "a\n\n"));
  EXPECT_FALSE(ExactMatch("return x;", " return x;"));
  EXPECT_FALSE(ExactMatch("return x;", "return y;"));
  EXPECT_TRUE(ExactMatch("", "  \n"));
}

TEST(ScoringTest, EditSimilarityIsOneMinusNormalisedLevenshtein) {
  EXPECT_DOUBLE_EQ(EditSimilarity("kitten", "kitten"), 1.0);
  EXPECT_DOUBLE_EQ(EditSimilarity("kitten", "sitting"), 1.0 - 3.0 / 7.0);  // the textbook 3 edits
  EXPECT_DOUBLE_EQ(EditSimilarity("abc", ""), 0.0);
  EXPECT_DOUBLE_EQ(EditSimilarity("", ""), 1.0);
  EXPECT_DOUBLE_EQ(EditSimilarity("ab\n", "ab"), 1.0);
}

TEST(ScoringTest, McNemarCountsOnlyDisagreements) {
  // 10 tasks tuned solves and base does not, none the other way: p = 2 * 0.5^10.
  std::vector<double> base(40, 0.0), tuned(40, 0.0);
  for (int i = 0; i < 10; ++i) tuned[i] = 1;
  for (int i = 30; i < 40; ++i) base[i] = tuned[i] = 1;  // agreements change nothing
  PairedComparison c = ComparePaired(base, tuned, /*binary=*/true);
  EXPECT_EQ(c.n, 40);
  EXPECT_DOUBLE_EQ(c.delta, 0.25);
  EXPECT_NEAR(c.p_value, 2.0 / 1024.0, 1e-12);
  EXPECT_TRUE(c.significant());
  EXPECT_LE(c.ci_low, c.delta);
  EXPECT_GE(c.ci_high, c.delta);
  EXPECT_GT(c.ci_low, 0.0);

  // 3 against 2: noise.
  std::vector<double> b2 = {1, 1, 0, 0, 0, 1, 1}, t2 = {0, 0, 1, 1, 1, 1, 1};
  PairedComparison noise = ComparePaired(b2, t2, true);
  EXPECT_NEAR(noise.p_value, 1.0, 1e-12);  // 2 * P(X <= 2 | n=5) = 2 * 16/32 = 1
  EXPECT_FALSE(noise.significant());
}

TEST(ScoringTest, SignFlipTestSeparatesAShiftFromNoise) {
  std::vector<double> base, shifted, jitter;
  for (int i = 0; i < 60; ++i) {
    base.push_back(0.3 + 0.01 * (i % 7));
    shifted.push_back(base.back() + 0.2 + 0.01 * (i % 3));
    jitter.push_back(base.back() + (i % 2 ? 0.05 : -0.05));
  }
  PairedComparison gain = ComparePaired(base, shifted, /*binary=*/false);
  EXPECT_NEAR(gain.delta, 0.21, 0.01);
  EXPECT_LT(gain.p_value, 0.001);
  EXPECT_GT(gain.ci_low, 0.19);
  PairedComparison none = ComparePaired(base, jitter, false);
  EXPECT_NEAR(none.delta, 0.0, 1e-12);
  EXPECT_GT(none.p_value, 0.5);
  EXPECT_LT(none.ci_low, 0.0);
  EXPECT_GT(none.ci_high, 0.0);
  // Reproducible: a fixed seed.
  EXPECT_EQ(ComparePaired(base, jitter, false).p_value, none.p_value);
}

TEST(ScoringTest, EmptyComparisonIsNotSignificant) {
  PairedComparison c = ComparePaired({}, {}, true);
  EXPECT_EQ(c.n, 0);
  EXPECT_FALSE(c.significant());
}

}  // namespace
}  // namespace tune::eval

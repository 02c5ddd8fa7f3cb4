#include "data/dedup.h"

#include <gtest/gtest.h>

#include <random>
#include <string>

namespace tune::data {
namespace {

std::string RandomCode(uint32_t seed, int words) {
  std::mt19937 rng(seed);
  std::string s;
  for (int i = 0; i < words; ++i) {
    s += "w" + std::to_string(rng() % 5000);
    s += (i % 8 == 7) ? "\n" : " ";
  }
  return s;
}

TEST(MinHashTest, IdenticalTextsHaveIdenticalSignatures) {
  MinHashOptions opt;
  std::string a = RandomCode(1, 400);
  MinHashSignature s1 = ComputeMinHash(opt, a), s2 = ComputeMinHash(opt, a);
  ASSERT_EQ(s1.size(), 256u);
  EXPECT_EQ(s1, s2);
  EXPECT_DOUBLE_EQ(EstimatedJaccard(s1, s2), 1.0);
}

TEST(MinHashTest, ShortDocumentsAreNotCompared) {
  MinHashOptions opt;
  EXPECT_TRUE(ComputeMinHash(opt, "a b c d").empty());
}

TEST(MinHashTest, EstimateTracksTrueJaccard) {
  MinHashOptions opt;
  std::string base = RandomCode(2, 1000);
  // Change the last 5% of words: shingle Jaccard stays high.
  std::string near = base.substr(0, base.size() * 95 / 100) + RandomCode(3, 50);
  std::string other = RandomCode(4, 1000);
  double j_near = EstimatedJaccard(ComputeMinHash(opt, base), ComputeMinHash(opt, near));
  double j_other = EstimatedJaccard(ComputeMinHash(opt, base), ComputeMinHash(opt, other));
  EXPECT_GT(j_near, 0.8);
  EXPECT_LT(j_other, 0.05);
}

TEST(LshIndexTest, NearDuplicateFoundUnrelatedKept) {
  MinHashOptions opt;
  LshIndex index(opt);
  std::string base = RandomCode(5, 1000);
  std::string near = base.substr(0, base.size() * 95 / 100) + RandomCode(6, 50);
  EXPECT_EQ(index.FindOrInsert(0, ComputeMinHash(opt, base)), std::nullopt);
  EXPECT_EQ(index.FindOrInsert(1, ComputeMinHash(opt, RandomCode(7, 1000))), std::nullopt);
  EXPECT_EQ(index.FindOrInsert(2, ComputeMinHash(opt, near)), std::optional<uint32_t>(0));
  // The duplicate was not inserted: a query equal to it still resolves to document 0.
  EXPECT_EQ(index.Find(ComputeMinHash(opt, near)), std::optional<uint32_t>(0));
}

}  // namespace
}  // namespace tune::data

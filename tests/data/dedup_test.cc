#include "data/dedup.h"

#include <gtest/gtest.h>

#include <cmath>
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

// Documents of distinct words with ngram 1: the shingle sets and their Jaccard are known exactly.
std::string Words(const std::string& prefix, int from, int to) {
  std::string s;
  for (int i = from; i < to; ++i) s += prefix + std::to_string(i) + " ";
  return s;
}

// Each slot must collide with probability J (one-permutation hashing with optimal densification
// is unbiased), for large sets and for small ones where most slots are filled by densification.
TEST(MinHashTest, SlotCollisionRateIsJaccard) {
  MinHashOptions opt;
  opt.ngram = 1;
  for (int size : {30, 200, 2000}) {
    for (double jaccard : {0.3, 0.7, 0.9}) {
      // |A| = |B| = size, |A n B| = shared: J = shared / (2 size - shared).
      int shared = static_cast<int>(std::lround(2 * size * jaccard / (1 + jaccard)));
      double exact = static_cast<double>(shared) / (2 * size - shared);
      double sum = 0;
      const int pairs = 200;
      for (int p = 0; p < pairs; ++p) {
        std::string prefix = "d" + std::to_string(p) + "_";
        std::string a = Words(prefix, 0, size);
        std::string b = Words(prefix, size - shared, 2 * size - shared);
        sum += EstimatedJaccard(ComputeMinHash(opt, a), ComputeMinHash(opt, b));
      }
      // The mean of 200 x 256 slot indicators: standard error < 0.01 for any J.
      EXPECT_NEAR(sum / pairs, exact, 0.03) << "size " << size << ", J " << exact;
    }
  }
}

TEST(MinHashTest, SignatureDependsOnWordOrder) {
  MinHashOptions opt;
  EXPECT_NE(ComputeMinHash(opt, "a b c d e f g h"), ComputeMinHash(opt, "h g f e d c b a"));
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
  index.Remove(0);
  EXPECT_EQ(index.Find(ComputeMinHash(opt, near)), std::nullopt);
  EXPECT_EQ(index.Find(ComputeMinHash(opt, RandomCode(7, 1000))), std::optional<uint32_t>(1));
}

}  // namespace
}  // namespace tune::data

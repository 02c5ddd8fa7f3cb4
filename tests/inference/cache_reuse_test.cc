#include "inference/cache_reuse.h"

#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace tune::inference {
namespace {

using ::testing::ElementsAre;
using ::testing::IsEmpty;

std::vector<int32_t> Range(int32_t from, int32_t n) {
  std::vector<int32_t> v;
  for (int32_t i = 0; i < n; ++i) v.push_back(from + i);
  return v;
}

std::vector<int32_t> Cat(std::initializer_list<std::vector<int32_t>> parts) {
  std::vector<int32_t> v;
  for (const auto& p : parts) v.insert(v.end(), p.begin(), p.end());
  return v;
}

std::vector<size_t> Positions(size_t from, size_t to) {
  std::vector<size_t> v;
  for (size_t i = from; i < to; ++i) v.push_back(i);
  return v;
}

TEST(CacheReuseTest, NoReuseComputesEverything) {
  CachePlan plan = PlanCacheReuse(Range(0, 10), Range(0, 10), /*reuse=*/false, 4);
  EXPECT_EQ(plan.keep_prefix, 0u);
  EXPECT_THAT(plan.moves, IsEmpty());
  EXPECT_EQ(plan.evaluate, Positions(0, 10));
  EXPECT_EQ(plan.reused(), 0u);
}

TEST(CacheReuseTest, SamePromptRecomputesOnlyTheLastToken) {
  CachePlan plan = PlanCacheReuse(Cat({Range(0, 10), Range(100, 5)}), Range(0, 10), true, 4);
  EXPECT_EQ(plan.keep_prefix, 10u);
  EXPECT_THAT(plan.evaluate, ElementsAre(9u));
  EXPECT_EQ(plan.reused(), 9u);
}

TEST(CacheReuseTest, ExtendedPromptComputesTheNewEnd) {
  CachePlan plan = PlanCacheReuse(Range(0, 10), Range(0, 14), true, 0);
  EXPECT_EQ(plan.evaluate, Positions(10, 14));
}

// llama.cpp PR #9866's example, in tokens: cached a b c d e x f g h x, new a c e f h y.
TEST(CacheReuseTest, DroppedChunksAreSkippedLikeLlamaCpp) {
  const std::vector<int32_t> a = Range(0, 5), b = Range(10, 5), c = Range(20, 7), d = Range(30, 5),
                             e = Range(40, 6), f = Range(50, 2), g = Range(60, 5), h = Range(70, 7),
                             x = Range(80, 9), y = Range(90, 8);
  const std::vector<int32_t> cache = Cat({a, b, c, d, e, x, f, g, h, x});
  const std::vector<int32_t> prompt = Cat({a, c, e, f, h, y});
  CachePlan plan = PlanCacheReuse(cache, prompt, true, 1);
  EXPECT_EQ(plan.keep_prefix, 5u);
  ASSERT_EQ(plan.moves.size(), 4u);  // c, e, f, h shifted down
  EXPECT_EQ(plan.moves[0].from, 10u);
  EXPECT_EQ(plan.moves[0].to, 5u);
  EXPECT_EQ(plan.reused(), 5u + 7 + 6 + 2 + 7);
  EXPECT_EQ(plan.evaluate, Positions(27, 35));  // y
  // With 3 the walk stops at f (2 tokens): a, c and e, as in the PR.
  CachePlan coarse = PlanCacheReuse(cache, prompt, true, 3);
  EXPECT_EQ(coarse.reused(), 5u + 7 + 6);
}

TEST(CacheReuseTest, EditThatReplacesALineKeepsOnlyThePrefix) {
  // The edited line's new tokens come first after the prefix and are not in the cache: the walk
  // finds nothing to shift, and everything after the edit is computed (llama.cpp does the same).
  const std::vector<int32_t> head = Range(0, 40), tail = Range(300, 120);
  CachePlan plan = PlanCacheReuse(Cat({head, Range(100, 6), tail}), Cat({head, Range(200, 2), tail}), true, 16);
  EXPECT_EQ(plan.keep_prefix, 40u);
  EXPECT_THAT(plan.moves, IsEmpty());
  EXPECT_EQ(plan.evaluate, Positions(40, 162));
}

TEST(CacheReuseTest, WithTailsAnEditKeepsWhatFollowsIt) {
  const std::vector<int32_t> head = Range(0, 40), old_line = Range(100, 6), new_line = Range(200, 2),
                             tail = Range(300, 120), reply = Range(500, 8);
  CachePlan plan = PlanCacheReuse(Cat({head, old_line, tail, reply}), Cat({head, new_line, tail}), true, 16,
                                  /*allow_tail=*/true);
  EXPECT_EQ(plan.keep_prefix, 40u);
  EXPECT_TRUE(plan.tail);
  ASSERT_EQ(plan.moves.size(), 1u);
  EXPECT_EQ(plan.moves[0].from, 46u);
  EXPECT_EQ(plan.moves[0].to, 42u);
  EXPECT_EQ(plan.moves[0].n, 120u);
  EXPECT_THAT(plan.evaluate, ElementsAre(40u, 41u, 161u));
  EXPECT_EQ(plan.reused(), 159u);
  // A longer edit moves the tail up.
  CachePlan longer = PlanCacheReuse(Cat({head, new_line, tail}), Cat({head, old_line, tail}), true, 16, true);
  ASSERT_EQ(longer.moves.size(), 1u);
  EXPECT_EQ(longer.moves[0].from, 42u);
  EXPECT_EQ(longer.moves[0].to, 46u);
  EXPECT_EQ(longer.evaluate.size(), 7u);
  // Where llama.cpp's chunks keep more (several evicted chunks), they win.
  const std::vector<int32_t> a = Range(0, 20), b = Range(100, 20), c = Range(200, 20), d = Range(300, 20);
  CachePlan chunks = PlanCacheReuse(Cat({a, b, c, d}), Cat({a, c, Range(400, 30), d}), true, 8, true);
  EXPECT_FALSE(chunks.tail);
  EXPECT_EQ(chunks.reused(), 40u);
}

TEST(CacheReuseTest, DeletedLineIsSkippedAndTheRestShifted) {
  const std::vector<int32_t> head = Range(0, 40), tail = Range(300, 120), reply = Range(500, 8);
  CachePlan plan = PlanCacheReuse(Cat({head, Range(100, 6), tail, reply}), Cat({head, tail}), true, 16);
  EXPECT_EQ(plan.keep_prefix, 40u);
  ASSERT_EQ(plan.moves.size(), 1u);
  EXPECT_EQ(plan.moves[0].from, 46u);
  EXPECT_EQ(plan.moves[0].to, 40u);
  EXPECT_EQ(plan.moves[0].n, 120u);
  EXPECT_THAT(plan.evaluate, ElementsAre(159u));
}

TEST(CacheReuseTest, ShortRunBelowTheMinimumIsComputed) {
  const std::vector<int32_t> head = Range(0, 40);
  CachePlan plan = PlanCacheReuse(Cat({head, Range(100, 3), Range(300, 10)}), Cat({head, Range(300, 10)}), true, 16);
  EXPECT_THAT(plan.moves, IsEmpty());
  EXPECT_EQ(plan.evaluate, Positions(40, 50));
}

}  // namespace
}  // namespace tune::inference

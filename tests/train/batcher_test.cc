#include "train/batcher.h"

#include <ATen/ATen.h>
#include <gtest/gtest.h>

#include "tests/support/temp_dir.h"
#include "tests/train/dataset_fixture.h"

namespace tune::train {
namespace {

using tune::testing::FixtureDocument;
using tune::testing::TempDir;

TEST(BatcherTest, PacksDocumentsWithSegmentsPositionsAndMaskedLabels) {
  TempDir tmp;
  std::vector<FixtureDocument> docs = {
      {{10, 11, 12}, {1, 1, 1}},
      {{20, 21, 22, 23}, {1, 0, 1, 1}},  // token 21 is context only, not a target
  };
  tune::testing::WriteDataset(tmp.path(), docs, {});
  auto batcher = Batcher::Open(tmp.path(), "train", 1, 8, 0, /*shuffle=*/false);
  ASSERT_TRUE(batcher.ok()) << batcher.status();
  Batch b = batcher->Next();
  auto row = [](const at::Tensor& t) { return std::vector<int64_t>(t.data_ptr<int64_t>(), t.data_ptr<int64_t>() + t.numel()); };
  // 7 tokens fit; a one-token remainder cannot hold a target, so it is padding.
  EXPECT_EQ(row(b.ids), (std::vector<int64_t>{10, 11, 12, 20, 21, 22, 23, 0}));
  EXPECT_EQ(row(b.positions), (std::vector<int64_t>{0, 1, 2, 0, 1, 2, 3, 0}));
  EXPECT_EQ(row(b.segments), (std::vector<int64_t>{0, 0, 0, 1, 1, 1, 1, -1}));
  // The last token of a document predicts nothing; 21 is not a target.
  EXPECT_EQ(row(b.labels), (std::vector<int64_t>{11, 12, -100, -100, 22, 23, -100, -100}));
  EXPECT_EQ(b.targets, 4);
  // The next row starts the second epoch.
  EXPECT_EQ(row(batcher->Next().ids), (std::vector<int64_t>{10, 11, 12, 20, 21, 22, 23, 0}));
  EXPECT_EQ(batcher->position().epoch, 2);
}

TEST(BatcherTest, LongDocumentsContinueInTheNextRowAndEpochsWrap) {
  TempDir tmp;
  tune::testing::WriteDataset(tmp.path(), {{{1, 2, 3, 4, 5, 6, 7}, {1, 1, 1, 1, 1, 1, 1}}}, {});
  auto batcher = Batcher::Open(tmp.path(), "train", 2, 4, 0, false);
  ASSERT_TRUE(batcher.ok());
  Batch b = batcher->Next();
  EXPECT_TRUE(at::equal(b.ids, at::tensor({1, 2, 3, 4, 5, 6, 7, 0}, at::kLong).view({2, 4})));
  EXPECT_TRUE(at::equal(b.positions, at::tensor({0, 1, 2, 3, 0, 1, 2, 0}, at::kLong).view({2, 4})));
  EXPECT_EQ(batcher->position().epoch, 1);
}

TEST(BatcherTest, ShuffleIsSeededAndSeekResumesExactly) {
  TempDir tmp;
  tune::testing::WriteDataset(tmp.path(), tune::testing::CyclicDocuments(40, 3, 30, 7), {});
  auto a = Batcher::Open(tmp.path(), "train", 2, 16, 5, true);
  auto b = Batcher::Open(tmp.path(), "train", 2, 16, 5, true);
  auto c = Batcher::Open(tmp.path(), "train", 2, 16, 6, true);
  ASSERT_TRUE(a.ok() && b.ok() && c.ok());
  for (int i = 0; i < 3; ++i) {
    a->Next();
    b->Next();
  }
  BatcherPosition saved = a->position();
  Batch expected = a->Next();
  EXPECT_TRUE(at::equal(b->Next().ids, expected.ids));
  EXPECT_FALSE(at::equal(c->Next().ids, Batcher::Open(tmp.path(), "train", 2, 16, 5, true)->Next().ids));
  auto resumed = Batcher::Open(tmp.path(), "train", 2, 16, 5, true);
  resumed->Seek(saved);
  EXPECT_TRUE(at::equal(resumed->Next().ids, expected.ids));
}

TEST(BatcherTest, ProcessesShareOneStreamByInterleaving) {
  TempDir tmp;
  tune::testing::WriteDataset(tmp.path(), tune::testing::CyclicDocuments(30, 3, 20, 3), {});
  auto single = Batcher::Open(tmp.path(), "train", 1, 8, 1, true);
  auto rank0 = Batcher::Open(tmp.path(), "train", 1, 8, 1, true);
  auto rank1 = Batcher::Open(tmp.path(), "train", 1, 8, 1, true);
  for (int i = 0; i < 4; ++i) {
    EXPECT_TRUE(at::equal(single->Next().ids, rank0->NextFor(0, 2).ids));
    EXPECT_TRUE(at::equal(single->Next().ids, rank1->NextFor(1, 2).ids));
  }
}

TEST(BatcherTest, MissingSplitOrDatasetIsAnError) {
  TempDir tmp;
  tune::testing::WriteDataset(tmp.path(), tune::testing::CyclicDocuments(3, 3, 5, 1), {});
  EXPECT_EQ(Batcher::Open(tmp.path(), "eval", 1, 8, 0, false).status().code(),
            absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(Batcher::Open(tmp / "nope", "train", 1, 8, 0, false).status().code(),
            absl::StatusCode::kNotFound);
}

}  // namespace
}  // namespace tune::train

#include "train/pretrain.h"

#include <gtest/gtest.h>

#include "model/model_options.h"
#include "tests/support/temp_dir.h"
#include "tests/train/dataset_fixture.h"

namespace tune::train {
namespace {

using tune::testing::FixturePath;
using tune::testing::TempDir;

// Every weight learns: on the cyclic fixture documents the held-out loss falls far, and the
// written directory is a complete model that loads again with every tensor trained.
TEST(PretrainTest, FullParameterTrainingLearnsAndWritesALoadableModel) {
  TempDir tmp;
  tune::testing::WriteDataset(tmp / "data", tune::testing::CyclicDocuments(64, 40, 200, 1),
                              tune::testing::CyclicDocuments(8, 40, 200, 2));
  PretrainOptions o;
  o.base = FixturePath("tiny-llama");
  o.data = tmp / "data";
  o.out = tmp / "out";
  o.steps = 60;
  o.batch_size = 4;
  o.seq_len = 64;
  o.lr = 1e-2;
  o.progress = false;
  absl::StatusOr<PretrainReport> r = Pretrain(o);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_GT(r->held_out_before, 5.0);
  EXPECT_LT(r->held_out_after, 1.0) << r->held_out_before << " -> " << r->held_out_after;
  EXPECT_EQ(r->tokens, 60 * 4 * 64);

  model::ModelOptions mo;
  mo.base = FixturePath("tiny-llama");
  absl::StatusOr<model::Transformer> before = model::LoadModel(mo, std::nullopt, model::LoraMode::kUnmerged);
  mo.base = tmp / "out";
  absl::StatusOr<model::Transformer> after = model::LoadModel(mo, std::nullopt, model::LoraMode::kUnmerged);
  ASSERT_TRUE(before.ok() && after.ok()) << after.status();
  auto a = before->DenseParameters(), b = after->DenseParameters();
  ASSERT_EQ(a.size(), b.size());
  for (size_t i = 0; i < a.size(); ++i) {
    EXPECT_EQ(a[i].first, b[i].first);
    EXPECT_FALSE(a[i].second->equal(*b[i].second)) << a[i].first << " did not train";
  }
  EXPECT_TRUE(std::filesystem::exists(tmp / "out/tokenizer.model"));
}

TEST(PretrainTest, MissingDatasetIsAnError) {
  TempDir tmp;
  PretrainOptions o;
  o.base = FixturePath("tiny-llama");
  o.data = tmp / "none";
  o.out = tmp / "out";
  EXPECT_FALSE(Pretrain(o).ok());
}

}  // namespace
}  // namespace tune::train

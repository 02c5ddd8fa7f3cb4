// The packed training forward: one document equals the plain forward; packed documents do not
// see each other; recomputed (checkpointed) layers give the same gradients.
#include <ATen/ATen.h>
#include <c10/core/GradMode.h>
#include <gtest/gtest.h>

#include "model/lora.h"
#include "model/transformer.h"
#include "tests/support/temp_dir.h"
#include "tests/support/tensor_testing.h"

namespace tune::model {
namespace {

using tune::testing::FixturePath;
using tune::testing::TensorNear;

class PackedTest : public ::testing::TestWithParam<std::string> {
 protected:
  Transformer Load() { return Transformer::Load(FixturePath("tiny-" + GetParam()), {}).value(); }
};

TEST_P(PackedTest, OneDocumentEqualsThePlainForward) {
  Transformer m = Load();
  at::Tensor ids = (at::arange(0, 20, at::kLong) * 37 % 512).view({1, 20});
  at::Tensor pos = at::arange(0, 20, at::kLong).view({1, 20});
  at::Tensor packed = m.HiddenPacked(ids, pos, at::zeros({1, 20}, at::kLong), false);
  EXPECT_TRUE(TensorNear(packed, m.Hidden(ids), 1e-5));
}

TEST_P(PackedTest, PackedDocumentsDoNotSeeEachOther) {
  Transformer m = Load();
  at::Tensor a = (at::arange(0, 7, at::kLong) * 11 % 512).view({1, 7});
  at::Tensor b = (at::arange(0, 9, at::kLong) * 29 % 512 + 3).view({1, 9});
  at::Tensor ids = at::cat({a, b}, 1);
  at::Tensor pos = at::cat({at::arange(0, 7, at::kLong), at::arange(0, 9, at::kLong)}).view({1, 16});
  at::Tensor seg = at::cat({at::zeros({7}, at::kLong), at::ones({9}, at::kLong)}).view({1, 16});
  at::Tensor packed = m.HiddenPacked(ids, pos, seg, false);
  EXPECT_TRUE(TensorNear(packed.narrow(1, 0, 7), m.Hidden(a), 1e-5));
  EXPECT_TRUE(TensorNear(packed.narrow(1, 7, 9), m.Hidden(b), 1e-5));
}

TEST_P(PackedTest, CheckpointedLayersGiveTheSameGradientsWithDropout) {
  Transformer m = Load();
  LoraOptions options;
  options.rank = 4;
  options.dropout = 0.3;  // the recomputation must replay the same dropout masks
  options.targets = {"q_proj", "v_proj", "o_proj", "up_proj", "down_proj", "c_fc", "c_proj"};
  ASSERT_TRUE(InitLora(m, options, 3).ok());
  m.set_training(true);
  auto lora = AttachedLora(m);
  {
    c10::NoGradGuard no_grad;  // B = 0 would make A's gradient zero: give B values
    for (auto& [name, w] : lora) w.b.normal_(0, 0.1);
  }
  at::Tensor ids = (at::arange(0, 24, at::kLong) * 13 % 512).view({2, 12});
  at::Tensor pos = at::arange(0, 12, at::kLong).repeat({2, 1});
  at::Tensor seg = at::zeros({2, 12}, at::kLong);
  std::vector<at::Tensor> grads[2];
  for (int checkpoint = 0; checkpoint < 2; ++checkpoint) {
    at::manual_seed(7);
    m.HiddenPacked(ids, pos, seg, checkpoint == 1).pow(2).mean().backward();
    for (auto& [name, w] : lora) {
      grads[checkpoint].push_back(w.a.grad().clone());
      w.a.mutable_grad() = at::Tensor();
      w.b.mutable_grad() = at::Tensor();
    }
  }
  for (size_t i = 0; i < grads[0].size(); ++i) {
    EXPECT_GT(grads[0][i].abs().max().item<double>(), 0.0);
    EXPECT_TRUE(TensorNear(grads[1][i], grads[0][i], 1e-6)) << lora[i].first;
  }
}

INSTANTIATE_TEST_SUITE_P(TinyModels, PackedTest, ::testing::Values("llama", "qwen3", "starcoder2"),
                         [](const auto& info) { return info.param; });

}  // namespace
}  // namespace tune::model

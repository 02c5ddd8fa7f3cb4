#include "train/optimizer.h"

#include <ATen/ATen.h>
#include <gtest/gtest.h>

#include <cmath>

namespace tune::train {
namespace {

TEST(AdamWTest, MatchesTheAlgorithmWrittenOutForTwoSteps) {
  at::Tensor p = at::tensor({1.0f, -2.0f}).requires_grad_(true);
  AdamW opt({{"p", p}}, {.beta1 = 0.9, .beta2 = 0.99, .eps = 1e-8, .weight_decay = 0.1});
  const double g[2][2] = {{0.5, -1.0}, {0.25, 2.0}};
  double x[2] = {1.0, -2.0}, m[2] = {0, 0}, v[2] = {0, 0};
  for (int t = 1; t <= 2; ++t) {
    p.mutable_grad() = at::tensor({static_cast<float>(g[t - 1][0]), static_cast<float>(g[t - 1][1])});
    opt.Step(0.01);
    for (int i = 0; i < 2; ++i) {
      x[i] *= 1 - 0.01 * 0.1;
      m[i] = 0.9 * m[i] + 0.1 * g[t - 1][i];
      v[i] = 0.99 * v[i] + 0.01 * g[t - 1][i] * g[t - 1][i];
      x[i] -= 0.01 * (m[i] / (1 - std::pow(0.9, t))) / (std::sqrt(v[i] / (1 - std::pow(0.99, t))) + 1e-8);
    }
  }
  EXPECT_NEAR(p[0].item<double>(), x[0], 1e-6);
  EXPECT_NEAR(p[1].item<double>(), x[1], 1e-6);
  EXPECT_EQ(opt.step(), 2);

  AdamW restored({{"p", p.detach().clone()}}, {});
  ASSERT_TRUE(restored.Restore(opt.State(), opt.step()));
  EXPECT_TRUE(at::equal(restored.State()[0].second, opt.State()[0].second));
  EXPECT_FALSE(restored.Restore({}, 1));
}

TEST(LearningRateTest, WarmsUpThenFollowsTheCosineToTheFloor) {
  EXPECT_NEAR(LearningRate(0, 100, 4, 1.0, 0.1), 0.2, 1e-12);
  EXPECT_NEAR(LearningRate(3, 100, 4, 1.0, 0.1), 0.8, 1e-12);
  EXPECT_NEAR(LearningRate(4, 100, 4, 1.0, 0.1), 1.0, 1e-12);
  EXPECT_NEAR(LearningRate(52, 100, 4, 1.0, 0.1), 0.55, 1e-12);  // half-way: the mean
  EXPECT_NEAR(LearningRate(100, 100, 4, 1.0, 0.1), 0.1, 1e-12);
  for (int s = 5; s < 100; ++s) EXPECT_LE(LearningRate(s, 100, 4, 1.0, 0.1), LearningRate(s - 1, 100, 4, 1.0, 0.1));
}

TEST(ClipGradNormTest, ScalesToTheLimitAndReportsTheNorm) {
  at::Tensor a = at::zeros({2}).requires_grad_(true);
  a.mutable_grad() = at::tensor({3.0f, 4.0f});
  EXPECT_NEAR(ClipGradNorm({{"a", a}}, 1.0), 5.0, 1e-6);
  EXPECT_NEAR(a.grad().norm().item<double>(), 1.0, 1e-5);
  EXPECT_NEAR(ClipGradNorm({{"a", a}}, 0.0), 1.0, 1e-5);  // 0: no clipping
}

}  // namespace
}  // namespace tune::train

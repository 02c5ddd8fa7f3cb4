#include "train/optimizer.h"

#include <ATen/ATen.h>
#include <ATen/CPUGeneratorImpl.h>
#include <gtest/gtest.h>

#include <cmath>

#include "tests/support/tensor_testing.h"

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

// `steps` AdamW steps with seeded random gradients on two params on `device`; returns the
// params and the optimizer state afterwards, in host memory.
std::vector<at::Tensor> RunAdamW(at::Device device, at::ScalarType dtype, bool offload, int steps) {
  at::Generator gen = at::detail::createCPUGenerator(5);
  std::vector<std::pair<std::string, at::Tensor>> params = {
      {"a", at::randn({4, 8}, gen).to(device, dtype).requires_grad_(true)},
      {"b", at::randn({8, 4}, gen).to(device, dtype).requires_grad_(true)}};
  AdamW opt(params, {.beta1 = 0.9, .beta2 = 0.99, .eps = 1e-8, .weight_decay = 0.01, .offload = offload});
  for (int t = 0; t < steps; ++t) {
    for (auto& [name, p] : params) p.mutable_grad() = at::randn(p.sizes(), gen).to(device, dtype);
    opt.Step(1e-2);
    opt.ZeroGrad();
  }
  std::vector<at::Tensor> out;
  for (auto& [name, p] : params) out.push_back(p.detach().cpu());
  for (auto& [name, t] : opt.State()) out.push_back(t.cpu());
  return out;
}

TEST(AdamWTest, OffloadedStateGivesBitIdenticalSteps) {
  // On the CPU the offloaded path (master copy, grads "copied down", params "copied up") runs
  // the same f32 operations on the same values as the in-place one, so every bit agrees.
  std::vector<at::Tensor> on_device = RunAdamW(at::kCPU, at::kFloat, false, 5);
  std::vector<at::Tensor> offloaded = RunAdamW(at::kCPU, at::kFloat, true, 5);
  ASSERT_EQ(on_device.size(), offloaded.size());
  for (size_t i = 0; i < on_device.size(); ++i) EXPECT_TRUE(at::equal(on_device[i], offloaded[i])) << i;
}

TEST(AdamWTest, Bf16ParamsFollowAnF32MasterCopy) {
  // Steps of 1e-4 are far below bf16's resolution at 1.0 (2^-7): without a master copy every
  // update would round away and the param would never move.
  at::Tensor p32 = at::full({3}, 1.0f).requires_grad_(true);
  at::Tensor p16 = at::full({3}, 1.0, at::kBFloat16).requires_grad_(true);
  AdamW opt32({{"p", p32}}, {}), opt16({{"p", p16}}, {});
  for (int t = 0; t < 200; ++t) {
    // Gradients exactly representable in bf16, so both optimizers see the same values.
    p32.mutable_grad() = at::full({3}, 0.5f);
    p16.mutable_grad() = at::full({3}, 0.5, at::kBFloat16);
    opt32.Step(1e-4);
    opt16.Step(1e-4);
  }
  EXPECT_LT(p32[0].item<double>(), 0.985);
  EXPECT_TRUE(at::equal(p16.detach(), p32.detach().to(at::kBFloat16)));
  // The master is saved with the state, so a resumed run continues from it, not from the
  // rounded param.
  std::vector<std::pair<std::string, at::Tensor>> state = opt16.State();
  ASSERT_EQ(state.size(), 3u);
  EXPECT_EQ(state[2].first, "p.master");
  EXPECT_TRUE(at::equal(state[2].second, p32.detach()));
  at::Tensor resumed = p16.detach().clone().requires_grad_(true);
  AdamW restored({{"p", resumed}}, {});
  ASSERT_TRUE(restored.Restore(state, opt16.step()));
  EXPECT_FALSE(restored.Restore({state[0], state[1]}, opt16.step()));  // no master: refused
}

TEST(AdamWTest, OffloadedStateOnCudaMatchesOnDevice_CUDA) {
  // Host and device f32 kernels may round differently (sqrt, fused adds): equal within 1e-5.
  std::vector<at::Tensor> cpu = RunAdamW(at::kCPU, at::kFloat, false, 5);
  std::vector<at::Tensor> on_device = RunAdamW(at::Device(at::kCUDA, 0), at::kFloat, false, 5);
  std::vector<at::Tensor> offloaded = RunAdamW(at::Device(at::kCUDA, 0), at::kFloat, true, 5);
  for (size_t i = 0; i < cpu.size(); ++i) {
    EXPECT_TRUE(tune::testing::TensorNear(offloaded[i], on_device[i], 1e-5)) << i;
    EXPECT_TRUE(tune::testing::TensorNear(on_device[i], cpu[i], 1e-5)) << i;
  }
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

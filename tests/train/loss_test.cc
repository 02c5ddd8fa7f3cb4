#include "train/loss.h"

#include <ATen/ATen.h>
#include <gtest/gtest.h>
#include <torch/csrc/autograd/autograd.h>

#include "tests/support/tensor_testing.h"

namespace tune::train {
namespace {

TEST(ChunkedLossTest, EqualsFullCrossEntropyAndItsGradient) {
  at::manual_seed(0);
  at::Tensor hidden = at::randn({13, 8}, at::kFloat).requires_grad_(true);
  at::Tensor head = at::randn({50, 8}, at::kFloat);
  at::Tensor labels = at::randint(0, 50, {13}, at::kLong);
  labels[3] = -100;
  labels[12] = -100;
  at::Tensor chunked = ChunkedCrossEntropySum(hidden, head, labels, /*chunk=*/4);
  at::Tensor grad_chunked = torch::autograd::grad({chunked}, {hidden})[0];

  at::Tensor h2 = hidden.detach().clone().requires_grad_(true);
  at::Tensor full = at::cross_entropy_loss(at::matmul(h2, head.t()), labels, {}, at::Reduction::Sum, -100);
  at::Tensor grad_full = torch::autograd::grad({full}, {h2})[0];
  EXPECT_NEAR(chunked.item<double>(), full.item<double>(), 1e-4);
  EXPECT_TRUE(tune::testing::TensorNear(grad_chunked, grad_full, 1e-5));
  EXPECT_TRUE(at::all(grad_chunked[3] == 0).item<bool>());  // no target, no gradient
}

}  // namespace
}  // namespace tune::train

// Tensor assertions for tests: report the largest deviation and where it is.
#pragma once

#include <ATen/ATen.h>
#include <gtest/gtest.h>

namespace tune::testing {

// Passes when |actual - expected| <= atol everywhere (shapes must match).
inline ::testing::AssertionResult TensorNear(const at::Tensor& actual, const at::Tensor& expected,
                                             double atol) {
  if (actual.sizes() != expected.sizes()) {
    return ::testing::AssertionFailure()
           << "shape " << actual.sizes() << " != expected " << expected.sizes();
  }
  at::Tensor diff = (actual.to(at::kDouble) - expected.to(at::kDouble)).abs();
  const double max_diff = diff.max().item<double>();
  if (max_diff <= atol) return ::testing::AssertionSuccess() << "max diff " << max_diff;
  return ::testing::AssertionFailure() << "max diff " << max_diff << " > " << atol << " at flat index "
                                       << diff.argmax().item<int64_t>();
}

}  // namespace tune::testing

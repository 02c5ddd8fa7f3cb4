// main() for test binaries that use LibTorch: tests named *_CUDA run only where a GPU is
// present (as PyTorch's own C++ tests do), so CI without a GPU skips them by name.
#include <gtest/gtest.h>
#include <torch/cuda.h>

#include <iostream>

int main(int argc, char** argv) {
  ::testing::InitGoogleTest(&argc, argv);
  if (!torch::cuda::is_available()) {
    std::string filter = GTEST_FLAG_GET(filter);
    GTEST_FLAG_SET(filter, filter + (filter.find('-') == std::string::npos ? "-*_CUDA" : ":*_CUDA"));
  }
  return RUN_ALL_TESTS();
}

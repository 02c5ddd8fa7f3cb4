// tune's quantizers against llama.cpp's own: loads libggml-base.so from the pinned
// node-llama-cpp prebuilt and runs ggml_quantize_chunk (the path llama-quantize takes without
// an imatrix) and ggml's dequantizers on the same tensors. Bytes must be identical, and the
// printed RMSE table shows tune's error next to ggml's.
#include <dlfcn.h>

#include <cmath>
#include <cstdio>
#include <random>
#include <string>
#include <vector>

#include "absl/strings/str_format.h"
#include "gguf/quants.h"
#include "gtest/gtest.h"
#include "tests/gguf/node_tools.h"

namespace tune::gguf {
namespace {

using QuantizeChunkFn = size_t (*)(int type, const float* src, void* dst, int64_t start,
                                   int64_t nrows, int64_t n_per_row, const float* imatrix);
using ToFloatFn = void (*)(const void* x, float* y, int64_t k);

class GgmlReferenceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const std::string missing = tune::testing::NodeToolsMissingReason();
    if (!missing.empty()) GTEST_SKIP() << missing;
    const auto lib = tune::testing::LlamaCppBinDir() / "libggml-base.so";
    handle_ = dlopen(lib.c_str(), RTLD_NOW | RTLD_LOCAL);
    ASSERT_NE(handle_, nullptr) << dlerror();
    quantize_ = reinterpret_cast<QuantizeChunkFn>(dlsym(handle_, "ggml_quantize_chunk"));
    ASSERT_NE(quantize_, nullptr) << dlerror();
  }
  void TearDown() override {
    if (handle_ != nullptr) dlclose(handle_);
  }
  ToFloatFn Dequantizer(GgmlType type) {
    const std::string name = type == GgmlType::kF16 ? "ggml_fp16_to_fp32_row"
                             : type == GgmlType::kBF16
                                 ? "ggml_bf16_to_fp32_row"
                                 : absl::StrFormat("dequantize_row_%s", GgmlTypeName(type));
    return reinterpret_cast<ToFloatFn>(dlsym(handle_, name.c_str()));
  }

  void* handle_ = nullptr;
  QuantizeChunkFn quantize_ = nullptr;
};

double Rmse(const std::vector<float>& a, const std::vector<float>& b) {
  double sum = 0;
  for (size_t i = 0; i < a.size(); ++i) sum += (double{a[i]} - b[i]) * (double{a[i]} - b[i]);
  return std::sqrt(sum / static_cast<double>(a.size()));
}

TEST_F(GgmlReferenceTest, SameBytesAndErrorAsGgml) {
  // Weight-like rows plus outliers and an all-zero row, 1.5B-sized row length.
  constexpr int64_t kRow = 1536;
  constexpr int64_t kRows = 48;
  std::mt19937 rng(2024);
  std::normal_distribution<float> normal(0.0f, 0.02f);
  std::vector<float> x(kRow * kRows);
  for (float& v : x) v = normal(rng);
  for (int64_t i = 0; i < kRow * kRows; i += 977) x[i] *= 40.0f;
  std::fill(x.begin() + kRow * 5, x.begin() + kRow * 6, 0.0f);

  std::printf("%-6s %14s %14s\n", "type", "rmse tune", "rmse ggml");
  for (GgmlType type :
       {GgmlType::kF16, GgmlType::kBF16, GgmlType::kQ8_0, GgmlType::kQ6_K, GgmlType::kQ5_K,
        GgmlType::kQ5_1, GgmlType::kQ5_0, GgmlType::kQ4_K, GgmlType::kQ4_0}) {
    SCOPED_TRACE(std::string(GgmlTypeName(type)));
    absl::StatusOr<std::string> ours = QuantizeTensor(type, x, kRow);
    ASSERT_TRUE(ours.ok()) << ours.status();
    std::string theirs(ours->size(), '\0');
    const size_t n =
        quantize_(static_cast<int>(type), x.data(), theirs.data(), 0, kRows, kRow, nullptr);
    ASSERT_EQ(n, ours->size());
    size_t first_diff = 0;
    while (first_diff < n && (*ours)[first_diff] == theirs[first_diff]) ++first_diff;
    EXPECT_EQ(first_diff, n) << "first differing byte";

    absl::StatusOr<std::vector<float>> y = DequantizeTensor(type, *ours, kRow);
    ASSERT_TRUE(y.ok()) << y.status();
    ToFloatFn to_float = Dequantizer(type);
    ASSERT_NE(to_float, nullptr);
    std::vector<float> y_ggml(x.size());
    to_float(theirs.data(), y_ggml.data(), static_cast<int64_t>(x.size()));
    EXPECT_EQ(*y, y_ggml) << "dequantized values differ from ggml's";
    const double ours_rmse = Rmse(x, *y);
    const double ggml_rmse = Rmse(x, y_ggml);
    std::printf("%-6s %14.8f %14.8f\n", std::string(GgmlTypeName(type)).c_str(), ours_rmse,
                ggml_rmse);
    EXPECT_LE(ours_rmse, ggml_rmse);
  }
}

}  // namespace
}  // namespace tune::gguf

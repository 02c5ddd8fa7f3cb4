// QLoRA base weights (model/nf4_weight.h): dequantized straight to the compute dtype on the CPU,
// and bit-identical on a GPU (*_CUDA, filtered out without one).
#include "model/nf4_weight.h"

#include <ATen/ATen.h>
#include <gtest/gtest.h>

#include "model/transformer.h"
#include "tests/support/temp_dir.h"
#include "tests/support/tensor_testing.h"

namespace tune::model {
namespace {

using tune::testing::FixturePath;

Transformer LoadQuantized(c10::Device device) {
  auto model = Transformer::Load(FixturePath("tiny-llama"), {.quantize_nf4 = true, .device = device});
  EXPECT_TRUE(model.ok()) << model.status();
  return std::move(model).value();
}

TEST(Nf4WeightTest, DequantizesStraightToBf16AsF32Rounded) {
  Transformer quantized = LoadQuantized(c10::kCPU);
  Transformer dense = Transformer::Load(FixturePath("tiny-llama"), {}).value();
  std::vector<NamedLinear> q = quantized.Linears(), d = dense.Linears();
  ASSERT_EQ(q.size(), d.size());
  for (size_t i = 0; i < q.size(); ++i) {
    ASSERT_TRUE(q[i].linear->nf4 != nullptr && !q[i].linear->weight.defined()) << q[i].name;
    at::Tensor f32 = q[i].linear->nf4->Dequantize(at::kFloat);
    at::Tensor bf16 = q[i].linear->nf4->Dequantize(at::kBFloat16);
    EXPECT_EQ(bf16.scalar_type(), at::kBFloat16);
    EXPECT_TRUE(at::equal(bf16, f32.to(at::kBFloat16))) << q[i].name;
    // NF4's error is about 0.1 of the weights' spread (docs/nf4.md), far below their size.
    const at::Tensor& w = d[i].linear->weight;
    EXPECT_LT(((f32 - w).pow(2).mean().sqrt() / w.std()).item<double>(), 0.15) << q[i].name;
  }
}

TEST(Nf4WeightTest, CudaDequantizationAndForwardEqualTheCpu_CUDA) {
  Transformer cpu = LoadQuantized(c10::kCPU);
  Transformer gpu = LoadQuantized(c10::Device(c10::kCUDA, 0));
  ASSERT_TRUE(gpu.device().is_cuda());
  std::vector<NamedLinear> c = cpu.Linears(), g = gpu.Linears();
  for (size_t i = 0; i < c.size(); ++i) {
    ASSERT_TRUE(g[i].linear->nf4->device().is_cuda());
    for (at::ScalarType dtype : {at::kFloat, at::kBFloat16}) {
      at::Tensor on_gpu = g[i].linear->nf4->Dequantize(dtype);
      EXPECT_TRUE(on_gpu.is_cuda());
      EXPECT_TRUE(at::equal(on_gpu.cpu(), c[i].linear->nf4->Dequantize(dtype))) << c[i].name;
    }
  }
  at::Tensor ids = (at::arange(0, 24, at::kLong) * 37 % 512).view({2, 12});
  // Same weights; only the GPU's f32 reduction order differs.
  EXPECT_TRUE(tune::testing::TensorNear(gpu.Forward(ids.cuda()).cpu(), cpu.Forward(ids), 1e-4));
}

}  // namespace
}  // namespace tune::model

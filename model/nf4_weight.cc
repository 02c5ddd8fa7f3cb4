#include "model/nf4_weight.h"

#include <ATen/ATen.h>

#ifdef TUNE_TORCH_CUDA
#include "model/cuda_backend.h"
#endif

namespace tune::model {
namespace {

// Copies a host buffer to `device` (a blocking copy, so the source may be freed right after).
template <typename T>
at::Tensor ToDevice(const T* data, int64_t n, at::ScalarType type, c10::Device device) {
  at::Tensor host = at::from_blob(const_cast<T*>(data), {n}, at::TensorOptions().dtype(type));
  return host.to(device, /*non_blocking=*/false, /*copy=*/true);
}

}  // namespace

std::shared_ptr<const Nf4Weight> Nf4Weight::Place(nf4::Nf4Weights q, int64_t rows, int64_t cols,
                                                  c10::Device device) {
  std::shared_ptr<Nf4Weight> w(new Nf4Weight(rows, cols, device));
  if (device.is_cpu()) {
    w->host_ = std::move(q);
    return w;
  }
  w->layout_ = q.layout;
  w->offset_ = q.offset;
  w->packed_ = ToDevice(q.packed.data(), static_cast<int64_t>(q.packed.size()), at::kByte, device);
  w->qabsmax_ = ToDevice(q.qabsmax.data(), static_cast<int64_t>(q.qabsmax.size()), at::kByte, device);
  w->absmax2_ = ToDevice(q.absmax2.data(), static_cast<int64_t>(q.absmax2.size()), at::kFloat, device);
  w->nested_code_ = ToDevice(q.nested_code.data(), static_cast<int64_t>(q.nested_code.size()), at::kFloat, device);
  return w;
}

at::Tensor Nf4Weight::Dequantize(at::ScalarType dtype) const {
#ifdef TUNE_TORCH_CUDA
  if (device_.is_cuda()) {
    return cuda::DequantizeNf4({layout_, packed_, qabsmax_, absmax2_, nested_code_, offset_}, rows_,
                               cols_, dtype);
  }
#endif
  TORCH_CHECK(device_.is_cpu(), "NF4 weights on ", device_, " need a build with CUDA");
  if (dtype == at::kBFloat16) {
    at::Tensor w = at::empty({rows_, cols_}, at::kBFloat16);
    nf4::DequantizeBf16(host_, reinterpret_cast<uint16_t*>(w.data_ptr()));
    return w;
  }
  at::Tensor w = at::empty({rows_, cols_}, at::kFloat);
  nf4::Dequantize(host_, w.data_ptr<float>());
  return dtype == at::kFloat ? w : w.to(dtype);
}

}  // namespace tune::model

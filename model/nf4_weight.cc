#include "model/nf4_weight.h"

#include <ATen/ATen.h>

namespace tune::model {
namespace {

// Copies a host vector or array to `device` (a blocking copy: the source may be freed next).
template <typename Buffer>
at::Tensor ToDevice(const Buffer& data, at::ScalarType type, c10::Device device) {
  at::Tensor host = at::from_blob(const_cast<typename Buffer::value_type*>(data.data()),
                                  {static_cast<int64_t>(data.size())}, at::TensorOptions().dtype(type));
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
  w->on_device_ = {q.layout,
                   ToDevice(q.packed, at::kByte, device),
                   ToDevice(q.qabsmax, at::kByte, device),
                   ToDevice(q.absmax2, at::kFloat, device),
                   ToDevice(q.nested_code, at::kFloat, device),
                   q.offset};
  return w;
}

at::Tensor Nf4Weight::Dequantize(at::ScalarType dtype) const {
#ifdef TUNE_TORCH_CUDA
  if (device_.is_cuda()) {
    return cuda::DequantizeNf4(on_device_, rows_, cols_, dtype);
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

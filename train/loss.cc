#include "train/loss.h"

#include <ATen/ATen.h>
#include <torch/csrc/autograd/custom_function.h>

namespace tune::train {
namespace {

struct ChunkedCrossEntropy : public torch::autograd::Function<ChunkedCrossEntropy> {
  static at::Tensor forward(torch::autograd::AutogradContext* ctx, const at::Tensor& hidden,
                            const at::Tensor& lm_head, const at::Tensor& labels, int64_t chunk) {
    ctx->save_for_backward({hidden, lm_head, labels});
    ctx->saved_data["chunk"] = chunk;
    at::Tensor total = at::zeros({}, hidden.options().dtype(at::kFloat));
    for (int64_t start = 0; start < hidden.size(0); start += chunk) {
      const int64_t n = std::min(chunk, hidden.size(0) - start);
      at::Tensor logits = at::matmul(hidden.narrow(0, start, n), lm_head.t()).to(at::kFloat);
      at::Tensor y = labels.narrow(0, start, n);
      at::Tensor valid = y != -100;
      at::Tensor picked = logits.gather(1, y.clamp_min(0).unsqueeze(1)).squeeze(1);
      total += ((at::logsumexp(logits, 1) - picked) * valid).sum();
    }
    return total;
  }

  static torch::autograd::variable_list backward(torch::autograd::AutogradContext* ctx,
                                                 torch::autograd::variable_list grad_out) {
    torch::autograd::variable_list saved = ctx->get_saved_variables();
    const at::Tensor& hidden = saved[0];
    const at::Tensor& lm_head = saved[1];
    const at::Tensor& labels = saved[2];
    const int64_t chunk = ctx->saved_data["chunk"].toInt();
    at::Tensor grad_hidden = at::empty_like(hidden);
    const at::Tensor g = grad_out[0].to(at::kFloat);
    for (int64_t start = 0; start < hidden.size(0); start += chunk) {
      const int64_t n = std::min(chunk, hidden.size(0) - start);
      at::Tensor logits = at::matmul(hidden.narrow(0, start, n), lm_head.t()).to(at::kFloat);
      at::Tensor y = labels.narrow(0, start, n);
      // d(lse - logit_y)/d logits = softmax - onehot(y), zero where there is no target.
      at::Tensor dlogits = at::softmax(logits, 1);
      dlogits.scatter_add_(1, y.clamp_min(0).unsqueeze(1), at::full({n, 1}, -1.0f, dlogits.options()));
      dlogits.mul_((y != -100).unsqueeze(1).to(at::kFloat) * g);
      grad_hidden.narrow(0, start, n).copy_(at::matmul(dlogits.to(hidden.scalar_type()), lm_head));
    }
    return {grad_hidden, at::Tensor(), at::Tensor(), at::Tensor()};
  }
};

}  // namespace

at::Tensor ChunkedCrossEntropySum(const at::Tensor& hidden, const at::Tensor& lm_head,
                                  const at::Tensor& labels, int64_t chunk) {
  return ChunkedCrossEntropy::apply(hidden, lm_head, labels, chunk);
}

}  // namespace tune::train

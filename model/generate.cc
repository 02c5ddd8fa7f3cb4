#include "model/generate.h"

#include <ATen/ATen.h>
#include <c10/core/InferenceMode.h>

namespace tune::model {

std::vector<int32_t> GreedyGenerate(const Transformer& model, const std::vector<int32_t>& prompt,
                                    const GreedyOptions& options) {
  TORCH_CHECK(!prompt.empty(), "GreedyGenerate: the prompt is empty");
  c10::InferenceMode no_autograd;
  const int64_t total = static_cast<int64_t>(prompt.size()) + options.max_new_tokens;
  KvCache cache(model.config(), /*batch=*/1, total, at::TensorOptions().dtype(model.dtype()));
  std::vector<int64_t> ids(prompt.begin(), prompt.end());
  at::Tensor input = at::tensor(ids, at::kLong).unsqueeze(0);
  std::vector<int32_t> out;
  for (int64_t step = 0; step < options.max_new_tokens; ++step) {
    at::Tensor logits = model.Forward(input, &cache);  // (1, T, vocab)
    int32_t next = static_cast<int32_t>(logits.select(1, logits.size(1) - 1).argmax(-1).item<int64_t>());
    out.push_back(next);
    if (options.stop_token && next == *options.stop_token) break;
    if (options.stop_after && options.stop_after(next)) break;
    input = at::full({1, 1}, next, at::kLong);
  }
  return out;
}

}  // namespace tune::model

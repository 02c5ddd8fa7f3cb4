#include "train/heldout_loss.h"

#include <ATen/ATen.h>
#include <c10/core/GradMode.h>

#include "train/loss.h"

namespace tune::train {

double MeanHeldOutLoss(const model::Transformer& model, Batcher& eval, int64_t batches, int64_t chunk) {
  c10::NoGradGuard no_grad;
  eval.Seek({});
  double loss = 0;
  int64_t targets = 0;
  for (int64_t i = 0; i < batches; ++i) {
    Batch b = ToDevice(eval.Next(), model.device());
    at::Tensor hidden = model.HiddenPacked(b.ids, b.positions, b.segments, /*checkpoint=*/false);
    loss += ChunkedCrossEntropySum(hidden.reshape({-1, hidden.size(-1)}), model.lm_head(),
                                   b.labels.reshape({-1}), chunk)
                .item<double>();
    targets += b.targets;
  }
  return targets > 0 ? loss / static_cast<double>(targets) : 0.0;
}

}  // namespace tune::train

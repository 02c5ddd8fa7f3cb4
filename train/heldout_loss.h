// Mean next-token loss of a model on held-out batches, without gradients: the eval loss `tune
// train` logs and the held-out loss / perplexity `tune eval` reports for a Hugging Face model.
#pragma once

#include <cstdint>

#include "model/transformer.h"
#include "train/batcher.h"

namespace tune::train {

// Mean cross-entropy per target token over the first `batches` micro-batches of `eval` (from its
// start), computed in chunks of `chunk` rows (train/loss.h). 0 when there is no target.
// Throws c10::Error on tensor failures.
double MeanHeldOutLoss(const model::Transformer& model, Batcher& eval, int64_t batches, int64_t chunk);

}  // namespace tune::train

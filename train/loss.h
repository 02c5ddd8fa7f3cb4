// Causal-LM cross-entropy computed in chunks of tokens, so the full (tokens x vocab) logits
// never exist at once: forward keeps only the hidden states; backward recomputes each chunk's
// logits to form its gradient. For a 7B model at 4k tokens the full f32 logits would be
// 2.4 GiB; a 1024-token chunk is 0.6 GiB and transient.
#pragma once

#include <ATen/core/Tensor.h>

#include <cstdint>

namespace tune::train {

// hidden: (N, C) final-norm outputs (requires grad); lm_head: (V, C), frozen;
// labels: (N) int64 with -100 where there is no target.
// Returns the *sum* of the per-target losses (f32 scalar); divide by the target count.
// Gradients flow to `hidden` only.
at::Tensor ChunkedCrossEntropySum(const at::Tensor& hidden, const at::Tensor& lm_head,
                                  const at::Tensor& labels, int64_t chunk);

}  // namespace tune::train

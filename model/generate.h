// Greedy decoding with a KV cache: the reference decoder that `tune debug generate` and the
// parity tests use to compare with Hugging Face's generate(do_sample=False).
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <vector>

#include "model/transformer.h"

namespace tune::model {

struct GreedyOptions {
  int64_t max_new_tokens = 16;
  std::optional<int32_t> stop_token;  // generation ends after emitting it (usually EOS)
  // Called with each emitted token; generation ends after a token for which it returns true
  // (`tune eval` applies the serving stop rules through it).
  std::function<bool(int32_t)> stop_after;
};

// prompt: token ids (non-empty) -> the new token ids only (at most max_new_tokens).
// Throws c10::Error on tensor failures; wrap in CallTorch at API boundaries.
std::vector<int32_t> GreedyGenerate(const Transformer& model, const std::vector<int32_t>& prompt,
                                    const GreedyOptions& options);

}  // namespace tune::model

// One request's token sampler: a llama.cpp sampler chain built from SamplingParams, as llama.cpp's
// server builds it:
//   no `samplers` list and temperature <= 0: penalties, then the most likely token (greedy);
//   otherwise: the samplers in the request's order (default penalties, top_k, top_p, min_p,
//   temperature; "infill" merges same-prefix candidates and prefers end-of-FIM when it is likely,
//   llama.cpp's FIM sampler), then a draw seeded by `seed` (random when unset). Temperature
//   applies only where the list names it.
#pragma once

#include <memory>

#include "inference/request.h"

struct llama_sampler;
struct llama_vocab;

namespace tune::inference {

struct LlamaSamplerDeleter {
  void operator()(llama_sampler* s) const;
};
using SamplerPtr = std::unique_ptr<llama_sampler, LlamaSamplerDeleter>;

SamplerPtr MakeSampler(const SamplingParams& params, const llama_vocab* vocab, int32_t n_ctx);

}  // namespace tune::inference

#include "inference/sampler.h"

#include <string>
#include <vector>

#include "llama.h"

namespace tune::inference {

void LlamaSamplerDeleter::operator()(llama_sampler* s) const { llama_sampler_free(s); }

SamplerPtr MakeSampler(const SamplingParams& p, const llama_vocab* vocab, int32_t n_ctx) {
  llama_sampler_chain_params chain_params = llama_sampler_chain_default_params();
  chain_params.no_perf = true;
  SamplerPtr chain(llama_sampler_chain_init(chain_params));
  const bool penalties = p.repeat_penalty != 1.0f || p.frequency_penalty != 0.0f ||
                         p.presence_penalty != 0.0f;
  auto add_penalties = [&] {
    if (!penalties) return;
    const int32_t last_n = p.repeat_last_n < 0 ? n_ctx : p.repeat_last_n;
    llama_sampler_chain_add(chain.get(),
                            llama_sampler_init_penalties(llama_vocab_n_tokens(vocab), last_n, p.repeat_penalty,
                                                         p.frequency_penalty, p.presence_penalty));
  };
  // Without a sampler list, temperature <= 0 is greedy decoding.
  if (p.temperature <= 0.0f && p.samplers.empty()) {
    add_penalties();
    llama_sampler_chain_add(chain.get(), llama_sampler_init_greedy());
    return chain;
  }
  // As llama.cpp's server: the listed samplers in order, then a seeded draw. A list without
  // "temperature" (llama.vscode sends top_k, top_p, infill) samples at temperature 1.
  static const std::vector<std::string> kDefaultOrder = {"penalties", "top_k", "top_p", "min_p",
                                                         "temperature"};
  const std::vector<std::string>& order = p.samplers.empty() ? kDefaultOrder : p.samplers;
  for (const std::string& name : order) {
    if (name == "penalties") {
      add_penalties();
    } else if (name == "top_k" && p.top_k > 0) {
      llama_sampler_chain_add(chain.get(), llama_sampler_init_top_k(p.top_k));
    } else if (name == "top_p" && p.top_p < 1.0f) {
      llama_sampler_chain_add(chain.get(), llama_sampler_init_top_p(p.top_p, 1));
    } else if (name == "min_p" && p.min_p > 0.0f) {
      llama_sampler_chain_add(chain.get(), llama_sampler_init_min_p(p.min_p, 1));
    } else if (name == "temperature") {
      llama_sampler_chain_add(chain.get(), llama_sampler_init_temp(p.temperature));
    } else if (name == "infill") {
      llama_sampler_chain_add(chain.get(), llama_sampler_init_infill(vocab));
    }
  }
  llama_sampler_chain_add(chain.get(),
                          llama_sampler_init_dist(p.seed ? *p.seed : LLAMA_DEFAULT_SEED));
  return chain;
}

}  // namespace tune::inference

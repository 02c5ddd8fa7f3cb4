// PEFT's `adapter_config.json` for LoRA adapters: the hyperparameters that say how an adapter's
// A/B pairs scale (r, lora_alpha, use_rslora, rank_pattern, alpha_pattern) and which modules
// they target. Torch-free, so that its parser can be fuzzed (fuzz/peft_config_fuzzer.cc); the
// tensors are read by model/lora.h.
//
// Scale of a module = lora_alpha / r, or lora_alpha / sqrt(r) with use_rslora, with the
// module's rank_pattern / alpha_pattern override where a key names the module or ends its
// dotted name (PEFT's rule: "q_proj" matches "model.layers.0.self_attn.q_proj").
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"

namespace tune::formats {

struct LoraConfig {
  int64_t r = 8;
  double alpha = 16.0;
  double dropout = 0.0;
  bool use_rslora = false;
  std::vector<std::string> target_modules;      // suffixes: q_proj, k_proj, ..., c_fc
  std::map<std::string, int64_t> rank_pattern;  // module-name suffix -> r
  std::map<std::string, double> alpha_pattern;  // module-name suffix -> alpha

  // The scale of the module named `module`, after rank_pattern / alpha_pattern.
  double ScaleFor(const std::string& module) const;
  int64_t RankFor(const std::string& module) const;
};

// Whether PEFT's key `key` (target_modules, rank_pattern, alpha_pattern) names `module`.
bool PeftKeyMatches(const std::string& module, const std::string& key);

// Parses adapter_config.json text; `origin` (the file) is named in every error.
// Unimplemented for PEFT features tune does not apply (DoRA, lora bias, fan_in_fan_out,
// modules_to_save, a peft_type other than LORA); InvalidArgument for a field of the wrong type
// or out of range (r and rank_pattern ranks in [1, 65536], alphas finite, dropout in [0, 1)).
absl::StatusOr<LoraConfig> ParseLoraConfig(std::string_view json_text, std::string_view origin);

}  // namespace tune::formats

// ParseLoraConfig: PEFT's adapter_config.json. An accepted config must give every module a rank
// in range and a finite scale (what model/lora.cc sizes tensors and multiplies weights with).
#include <cmath>

#include "formats/peft_config.h"
#include "fuzz/fuzz_target.h"

TUNE_FUZZ_TARGET(peft_config) {
  const std::string origin = "adapter_config.json";
  absl::StatusOr<tune::formats::LoraConfig> config = tune::formats::ParseLoraConfig(input, origin);
  if (!config.ok()) return tune::fuzz::CheckError(config.status(), origin);
  std::vector<std::string> modules = {"model.layers.0.self_attn.q_proj", "lm_head"};
  for (const auto& [key, rank] : config->rank_pattern) modules.push_back("model." + key);
  for (const auto& [key, alpha] : config->alpha_pattern) modules.push_back(key);
  for (const std::string& module : modules) {
    const int64_t rank = config->RankFor(module);
    TUNE_FUZZ_CHECK(rank >= 1 && rank <= 65536);
    TUNE_FUZZ_CHECK(std::isfinite(config->ScaleFor(module)));
  }
}

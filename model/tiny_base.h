// The embedded default's base model: the tiny llama fixture (hidden 64, 2 layers, random
// weights) made trainable by LoRA, with tune's 512-piece tokenizer that has FIM and repo tokens.
//
// Why: LoRA trains the projections only; lm_head and the final RMSNorm stay frozen. The
// fixture's final norm has unit-scale weights and its lm_head is small and random, so its logits
// span about +-1.3 whatever the hidden state: the loss cannot go below ~5.2 nats however the
// adapters move (measured: 200 steps stall there). Scaling the final norm's weights by
// `norm_scale` widens the logit range, and the same 200 CPU steps reach a loss below 1 on a
// repository. Nothing else changes: same shapes, same tokenizer size, same config.
//
// Writes <out>/config.json, model.safetensors (F32) and tokenizer.model, atomically each.
#pragma once

#include <filesystem>

#include "absl/status/status.h"

namespace tune::model {

inline constexpr float kTinyBaseNormScale = 20.0f;

// fixture: a Hugging Face llama directory with model.norm.weight in F32 (the tiny-llama fixture);
// tokenizer: a tokenizer.model to ship with it (configs/tokenizer/tiny-fim.model).
absl::Status WriteTinyBase(const std::filesystem::path& fixture, const std::filesystem::path& tokenizer,
                           const std::filesystem::path& out, float norm_scale = kTinyBaseNormScale);

}  // namespace tune::model

// GGUF models for the runner's tests, exported by tune from the shared tiny fixtures, and the
// reference greedy decoding they must reproduce (model::GreedyGenerate, what `tune debug
// generate` runs on the Hugging Face directory).
#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "inference/engine.h"

namespace tune::testing {

// RunExport of fixture `name` into `dir`: the model (adapter merged when `with_adapter`) or, with
// `adapter_only`, the adapter as a GGUF LoRA. Fails the test on error.
std::filesystem::path ExportTinyModel(const std::filesystem::path& dir, const std::string& name,
                                      const std::string& quant, bool with_adapter,
                                      bool adapter_only = false);

// tiny-qwen2's weights with the embedded tiny FIM tokenizer (configs/tokenizer/tiny-fim.model:
// <fim_prefix> ... <repo_name> <file_sep>), exported as `quant`: a model that /infill accepts.
std::filesystem::path ExportTinyFimModel(const std::filesystem::path& dir, const std::string& quant);

// Greedy continuation by tune's LibTorch model of fixture `name` (adapter applied when asked).
std::vector<int32_t> TuneGreedy(const std::string& name, const std::vector<int32_t>& prompt,
                                int64_t n, bool with_adapter);

// The fixture's 8-token greedy prompt (reference.safetensors `greedy_prompt`).
std::vector<int32_t> GreedyPrompt(const std::string& name);

// An engine on `model` with one thread (llama.cpp's workers spin while they wait: more threads
// only slow a shared 2-core machine), `slots` slots of `slot_ctx` tokens, batches of `batch`, and
// the retrieval index at `index` (none when empty). Fails the test and returns null on error.
std::unique_ptr<inference::Engine> StartTestEngine(const std::filesystem::path& model,
                                                   std::vector<inference::LoraSpec> loras,
                                                   int32_t slots, int32_t slot_ctx, int32_t batch,
                                                   const std::filesystem::path& index = {});

}  // namespace tune::testing

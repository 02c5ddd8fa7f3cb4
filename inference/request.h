// What one completion request asks of the engine and what it gets back: the contract between the
// HTTP layer (inference/http_api.h parses JSON into these, formats these into JSON) and the engine
// (inference/engine.h runs them). Plain data, no llama.cpp types, so both sides test on their own.
//
// Field names and defaults follow llama.cpp's server (`/completion`, `/infill`), which IDE clients
// (llama.vscode, llama.vim, Continue's llama.cpp provider) speak; docs/serving.md lists them.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace tune::inference {

// One `input_extra` entry: a snippet of another file the editor has open.
struct ExtraChunk {
  std::string filename;  // "tmp" when the client sent none (llama.cpp's default)
  std::string text;
};

// Sampler settings. Greedy when temperature <= 0 (then only the penalties apply).
struct SamplingParams {
  float temperature = 0.8f;
  int32_t top_k = 40;  // <= 0: off
  float top_p = 0.95f;  // >= 1: off
  float min_p = 0.05f;  // <= 0: off
  float repeat_penalty = 1.0f;  // 1: off
  int32_t repeat_last_n = 64;   // tokens the penalties look back over; -1 = the context
  float presence_penalty = 0.0f;
  float frequency_penalty = 0.0f;
  // Seed of the final random draw; std::nullopt = a fresh random seed per request.
  std::optional<uint32_t> seed;
  // Order of the truncating samplers, by llama.cpp's names: "penalties", "top_k", "top_p",
  // "min_p", "temperature", "infill" (others are accepted and ignored). Empty = llama.cpp's
  // default order: penalties, top_k, top_p, min_p, temperature.
  std::vector<std::string> samplers;
};

// A per-request LoRA scale, by the adapter's index in `GET /lora-adapters`.
struct LoraScale {
  int32_t id = 0;
  float scale = 1.0f;
};

// How the prompt is given: FIM pieces (`/infill`, `/v1/completions` with `suffix`), raw text
// whose special-token spellings are parsed (`/completion`, Continue's client-side templates), or
// token ids.
enum class PromptKind { kInfill, kText, kTokens };

struct CompletionRequest {
  PromptKind kind = PromptKind::kText;
  // kInfill: prefix = file text before the cursor line, prompt_text = the cursor line up to the
  // cursor, suffix = the rest of the file; extra = other files, oldest first.
  std::string input_prefix;
  std::string input_suffix;
  std::vector<ExtraChunk> input_extra;
  std::string prompt_text;             // kInfill: typed part of the line; kText: the whole prompt
  std::string filename;  // kInfill: the edited file's path (tune extension; llama.cpp has none)
  // kInfill: SPM instead of PSM order for this request; unset = the server's --spm-infill
  // (tune extension, so `tune eval` can measure both orders on one loaded model).
  std::optional<bool> spm_infill;
  std::vector<int32_t> prompt_tokens;  // kTokens

  int32_t n_predict = -1;  // tokens to generate; -1 = the server's limit; 0 = only fill the cache
  int32_t n_indent = 0;    // stop at a new line indented less than this (0: off)
  bool single_line = false;  // stop at the first newline once something was generated
  int64_t t_max_predict_ms = 0;  // stop at a newline after this much generation time (0: off)
  std::vector<std::string> stop;  // stop strings (not included in the content)
  bool stream = false;
  bool cache_prompt = true;  // reuse the slot's cached prefix
  int32_t n_cache_reuse = -1;  // min chunk for KV-shift reuse after an edit; -1 = server default
  int32_t id_slot = -1;      // -1: the idle slot whose cache fits best
  int32_t n_cmpl = 1;        // independent completions of the same prompt (in parallel slots)
  bool return_tokens = false;
  bool ignore_eos = false;  // keep generating past end-of-generation tokens (llama.cpp's field)
  SamplingParams sampling;
  std::optional<std::vector<LoraScale>> lora;  // unset = the server's current scales
  std::vector<std::string> response_fields;    // projection of the response ("timings/prompt_n")
};

enum class StopType { kNone, kEos, kLimit, kWord };

struct Timings {
  int32_t cache_n = 0;       // prompt tokens reused from the slot's cache
  int32_t prompt_n = 0;      // prompt tokens evaluated
  double prompt_ms = 0;
  int32_t predicted_n = 0;   // tokens generated
  double predicted_ms = 0;
  int32_t retrieved_n = 0;   // input_extra chunks added from the repository index (tune extension)
  double retrieval_ms = 0;   // time spent finding them
};

// A streamed piece: the text of newly generated tokens that no stop rule can still cut.
struct PartialResult {
  int32_t index = 0;  // which of the n_cmpl completions
  std::string content;
  std::vector<int32_t> tokens;
  int32_t tokens_predicted = 0;
  int32_t tokens_evaluated = 0;
  int32_t id_slot = 0;
};

struct CompletionResult {
  int32_t index = 0;
  std::string content;
  std::vector<int32_t> tokens;  // filled when return_tokens or streaming
  int32_t id_slot = 0;
  StopType stop_type = StopType::kNone;
  std::string stopping_word;
  int32_t tokens_predicted = 0;
  int32_t tokens_evaluated = 0;  // prompt length in tokens
  int32_t tokens_cached = 0;     // tokens in the slot's cache after this request
  bool truncated = false;        // the prompt was cut to fit the context
  bool has_new_line = false;
  std::string prompt;            // the prompt as text (FIM layout included)
  Timings timings;
};

}  // namespace tune::inference

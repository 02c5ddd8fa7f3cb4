// The JSON protocol of `tune serve`: llama.cpp-server-compatible request bodies parsed into
// request.h structs, and request.h results formatted into llama.cpp's (and OpenAI's) responses.
// No sockets, no model: the HTTP layer (inference/server.*) reads the body, calls a Parse*
// function, hands the request to the engine and formats what comes back with the *Json functions.
//
// Parsing rules, the same for every endpoint:
//  - the body must be one JSON value (an object, except `POST /lora-adapters`); malformed JSON is
//    InvalidArgument with the parser's line and column;
//  - unknown keys are ignored (clients send "model", "typical_p", "mirostat", ...), and so is a
//    known key whose value is null (llama.cpp treats null as absent);
//  - a known key of the wrong type is InvalidArgument naming the key and the expected type, e.g.
//    `field "n_predict" must be an integer`; integers may be written as integral floats (128.0);
//    numbers must be finite (1e999 is rejected);
//  - out-of-range values are InvalidArgument too (limits below), with llama.cpp's own text where
//    clients surface it (n_cmpl, input_extra).
// Errors map to HTTP codes with HttpCodeFor() and to llama.cpp's error envelope with ErrorJson().
//
// Output: every JSON body or SSE event must be serialized with DumpJson(), which replaces invalid
// UTF-8 (a token piece can end inside a multi-byte character) with U+FFFD instead of throwing.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "inference/request.h"
#include "nlohmann/json.hpp"

namespace tune::inference {

// Server-side bounds applied while parsing (the total body size is the HTTP layer's).
struct RequestLimits {
  int32_t max_n_predict = 4096;     // n_predict / max_tokens above this: error (-1 = this limit)
  int32_t max_n_cmpl = 4;           // n_cmpl / n in [1, max_n_cmpl]; the number of slots
  int32_t max_extra_chunks = 256;   // input_extra entries
  int32_t max_stop_strings = 64;    // entries of "stop" (after dropping empty strings)
  int32_t max_stop_bytes = 256;     // bytes of one stop string
};

// ---- Completion requests -------------------------------------------------------------------
//
// Options shared by /infill, /completion and /v1/completions (llama.cpp names; request.h has the
// meaning of each): n_predict (alias max_tokens; n_predict wins when both are given; -1 ..
// max_n_predict), n_indent (>= 0), t_max_predict_ms (<= 0 = off), t_max_prompt_ms (checked,
// ignored, as in llama.cpp), stop (string or array of strings; "" entries dropped), stream,
// cache_prompt, n_cache_reuse (>= -1), id_slot (>= -1), n_cmpl, return_tokens, temperature, top_k,
// top_p, min_p, repeat_penalty, repeat_last_n (>= -1), presence_penalty, frequency_penalty, seed
// (-1 or 4294967295 = random, else 0 .. 2^32-1), samplers (array of names, or llama.cpp's letter
// string "kpmt...": d dry, k top_k, y typ_p, p top_p, s top_n_sigma, m min_p, x xtc,
// t temperature, i infill, e penalties; unknown letters ignored), lora ([{"id", "scale"}], see
// ParseLoraScales), response_fields (array of strings), ignore_eos (bool), and tune's "single_line"
// (bool).

// `POST /infill`: input_prefix and input_suffix (required strings), prompt (optional string: the
// typed part of the cursor line), input_extra (optional array of {"filename"?: string = "tmp",
// "text": string}; other keys such as llama.vim's "time" are ignored whatever their type), plus
// the shared options. kind = kInfill.
absl::StatusOr<CompletionRequest> ParseInfillRequest(std::string_view body,
                                                     const RequestLimits& limits);

// `POST /completion`: prompt (required) is a string (kText, special-token text is parsed by the
// engine), an array of token ids >= 0 (kTokens; the vocabulary bound is the engine's check), or an
// array holding one string. Mixed arrays and several prompts are rejected; an empty prompt is left
// to the engine to refuse. Plus the shared options.
absl::StatusOr<CompletionRequest> ParseCompletionRequest(std::string_view body,
                                                         const RequestLimits& limits);

// `POST /v1/completions` (OpenAI legacy completions): prompt as for /completion; a non-empty
// "suffix" string makes it kInfill with input_prefix = prompt (as Ollama does; llama.cpp rejects
// suffix); max_tokens absent or null = -1 (the server's limit, not OpenAI's 16); "n" = n_cmpl;
// echo: true -> "Only no echo is supported"; best_of other than 1 -> "Unsupported param: best_of";
// logprobs, user, stream_options are ignored. Every llama.cpp option is accepted too.
absl::StatusOr<CompletionRequest> ParseOpenAiCompletionRequest(std::string_view body,
                                                               const RequestLimits& limits);

// ---- Other endpoints -----------------------------------------------------------------------

// `POST /tokenize`.
struct TokenizeRequest {
  std::string content;
  bool add_special = false;   // BOS etc. as the model's metadata asks
  bool parse_special = true;  // "<|fim_prefix|>" text -> the special token
  bool with_pieces = false;   // answer [{"id", "piece"}] instead of [id]
};
absl::StatusOr<TokenizeRequest> ParseTokenizeRequest(std::string_view body);

// `POST /detokenize`: {"tokens": [id >= 0, ...]} (absent = empty).
struct DetokenizeRequest {
  std::vector<int32_t> tokens;
};
absl::StatusOr<DetokenizeRequest> ParseDetokenizeRequest(std::string_view body);

// `POST /lora-adapters`: the body is an array of {"id": integer >= 0, "scale": number}. As in
// llama.cpp, a missing scale is 0 and adapters not listed go to scale 0; the engine checks that
// each id names a loaded adapter. The per-request "lora" field has the same shape.
absl::StatusOr<std::vector<LoraScale>> ParseLoraScales(std::string_view body);

// ---- Responses -----------------------------------------------------------------------------

// llama.cpp's final /completion and /infill object: index, content, tokens, id_slot, stop: true,
// model, tokens_predicted, tokens_evaluated, generation_settings, prompt, has_new_line, truncated,
// stop_type ("none"|"eos"|"limit"|"word"), stopping_word, tokens_cached, timings. When
// request.stream, content is "" and tokens [] (they went out as partial events: the engine must
// deliver all generated text through PartialResults before the final result). When
// request.response_fields is non-empty only those paths are kept, each at the root under its full
// path ("timings/prompt_n" -> {"timings/prompt_n": 32}); paths that do not exist are skipped.
nlohmann::json CompletionResultJson(const CompletionResult& result,
                                    const CompletionRequest& request,
                                    std::string_view model_name);

// The non-stream body for n_cmpl results: one object when there is one result, else an array of
// them ordered by index (llama.cpp's shape; llama.vscode handles both).
nlohmann::json CompletionResponseJson(const std::vector<CompletionResult>& results,
                                      const CompletionRequest& request,
                                      std::string_view model_name);

// A stream event of /completion and /infill: {index, content, tokens, stop: false, id_slot,
// tokens_predicted, tokens_evaluated}. Send with SseEvent(); the stream ends with the final
// CompletionResultJson event (no "[DONE]" on these endpoints).
nlohmann::json PartialResultJson(const PartialResult& partial);

// `POST /v1/completions`, non-stream: {id, object: "text_completion", created, model,
// choices: [{text, index, logprobs: null, finish_reason}], usage: {prompt_tokens,
// completion_tokens, total_tokens}, timings}. finish_reason is "stop" for eos and stop words,
// "length" otherwise (llama.cpp). Choices are ordered by index; usage counts the prompt once.
nlohmann::json OpenAiCompletionJson(const std::vector<CompletionResult>& results,
                                    std::string_view model_name, std::string_view id,
                                    int64_t created);

// `POST /v1/completions` stream chunks: a partial has choices[0] = {text, index, logprobs: null,
// finish_reason: null}; the final one has text "", the finish_reason, usage and timings. The HTTP
// layer ends the stream with "data: [DONE]\n\n".
nlohmann::json OpenAiChunkJson(const PartialResult& partial, std::string_view model_name,
                               std::string_view id, int64_t created);
nlohmann::json OpenAiChunkJson(const CompletionResult& result, std::string_view model_name,
                               std::string_view id, int64_t created);

// `POST /tokenize` answer: {"tokens": [id...]} when `pieces` is empty, else {"tokens": [{"id",
// "piece"}...]} where a piece that is not valid UTF-8 is given as an array of byte values.
nlohmann::json TokenizeResponseJson(const std::vector<int32_t>& tokens,
                                    const std::vector<std::string>& pieces);

// ---- Errors and serialization --------------------------------------------------------------

// llama.cpp's error envelope {"error": {"code", "message", "type"}}; type by code:
// 400 invalid_request_error, 401 authentication_error, 403 permission_error, 404 not_found_error,
// 500 server_error, 501 not_supported_error, 503 unavailable_error; other 4xx
// invalid_request_error, other 5xx server_error.
nlohmann::json ErrorJson(int http_code, std::string_view message);
// ErrorJson(HttpCodeFor(status), status.message()).
nlohmann::json ErrorJson(const absl::Status& status);

// HTTP status for an error: InvalidArgument, OutOfRange, FailedPrecondition -> 400;
// Unauthenticated -> 401; PermissionDenied -> 403; NotFound -> 404; Unimplemented -> 501 (e.g.
// infill on a model without FIM tokens); Unavailable (loading) and ResourceExhausted (every slot
// busy, queue full: llama.cpp has no 429 and clients retry on 503) -> 503; anything else -> 500.
int HttpCodeFor(const absl::Status& status);

// j.dump() with invalid UTF-8 replaced by U+FFFD; never throws.
std::string DumpJson(const nlohmann::json& j);

// One server-sent event: "<field>: <json>\n\n". llama.cpp sends errors inside a /completion
// stream as field "error"; everything else is "data".
std::string SseEvent(const nlohmann::json& j, std::string_view field = "data");

}  // namespace tune::inference

// The request bodies of `tune serve` (inference/http_api.h): the first byte picks the endpoint
// (/infill, /completion, /v1/completions, /tokenize, /detokenize, /lora-adapters), the rest is
// the body. Errors must map to a 4xx/5xx code and a serializable envelope; accepted completion
// requests must respect the limits.
#include "fuzz/fuzz_target.h"
#include "inference/http_api.h"

namespace {

void CheckRequest(const absl::StatusOr<tune::inference::CompletionRequest>& request,
                  const tune::inference::RequestLimits& limits) {
  if (!request.ok()) return;
  TUNE_FUZZ_CHECK(request->n_predict >= -1 && request->n_predict <= limits.max_n_predict);
  TUNE_FUZZ_CHECK(request->n_cmpl >= 1 && request->n_cmpl <= limits.max_n_cmpl);
  TUNE_FUZZ_CHECK(request->input_extra.size() <= static_cast<size_t>(limits.max_extra_chunks));
  TUNE_FUZZ_CHECK(request->stop.size() <= static_cast<size_t>(limits.max_stop_strings));
  for (int32_t id : request->prompt_tokens) TUNE_FUZZ_CHECK(id >= 0);
}

absl::Status Parse(uint8_t endpoint, std::string_view body) {
  const tune::inference::RequestLimits limits;
  switch (endpoint % 6) {
    case 0: {
      auto request = tune::inference::ParseInfillRequest(body, limits);
      CheckRequest(request, limits);
      return request.status();
    }
    case 1: {
      auto request = tune::inference::ParseCompletionRequest(body, limits);
      CheckRequest(request, limits);
      return request.status();
    }
    case 2: {
      auto request = tune::inference::ParseOpenAiCompletionRequest(body, limits);
      CheckRequest(request, limits);
      return request.status();
    }
    case 3:
      return tune::inference::ParseTokenizeRequest(body).status();
    case 4: {
      auto request = tune::inference::ParseDetokenizeRequest(body);
      if (request.ok()) {
        for (int32_t id : request->tokens) TUNE_FUZZ_CHECK(id >= 0);
      }
      return request.status();
    }
    default:
      return tune::inference::ParseLoraScales(body).status();
  }
}

}  // namespace

TUNE_FUZZ_TARGET(http_api) {
  if (input.empty()) return;
  const absl::Status status = Parse(static_cast<uint8_t>(input[0]), input.substr(1));
  if (status.ok()) return;
  const int code = tune::inference::HttpCodeFor(status);
  TUNE_FUZZ_CHECK(code >= 400 && code < 600);
  TUNE_FUZZ_CHECK(!tune::inference::DumpJson(tune::inference::ErrorJson(status)).empty());
}

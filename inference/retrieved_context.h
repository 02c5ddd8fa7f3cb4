// Retrieval for an `/infill` request: the repository index's chunks for the code around the
// cursor (retrieval/index.h, queried with retrieval::CursorQuery of the prefix and suffix, as
// training samples are) appended to the request's input_extra behind what the client sent, least
// relevant first, so that the best chunk sits next to the file and is the last one the prompt
// budget drops (inference/fim_prompt.h keeps the newest chunks).
//
// Left out: chunks of the request's own file (`filename`, when the client names it), chunks whose
// text the client already sent in an input_extra entry or that appear in the prefix or suffix
// (the file being edited, when it is not named). `tune serve --index` (inference/engine.h) and
// `tune eval`'s retrieval arms both call it.
#pragma once

#include <cstdint>

#include "inference/request.h"
#include "retrieval/index.h"

namespace tune::inference {

// Adds at most `k` chunks; returns how many it added.
int32_t AddRetrievedChunks(const retrieval::Index& index, int32_t k, CompletionRequest& request);

}  // namespace tune::inference

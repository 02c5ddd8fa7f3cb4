#include "inference/retrieved_context.h"

#include <algorithm>
#include <string>
#include <vector>


namespace tune::inference {

int32_t AddRetrievedChunks(const retrieval::Index& index, int32_t k, CompletionRequest& request) {
  if (k <= 0) return 0;
  const std::string prefix = request.input_prefix + request.prompt_text;
  retrieval::Query q = retrieval::CursorQuery(prefix, request.input_suffix);
  q.exclude_path = request.filename;
  q.k = k;
  q.skip = [&](const retrieval::IndexedFile&, const retrieval::IndexedChunk& chunk) {
    for (const ExtraChunk& c : request.input_extra) {
      if (c.text.find(chunk.text) != std::string::npos) return true;
    }
    return prefix.find(chunk.text) != std::string::npos || request.input_suffix.find(chunk.text) != std::string::npos;
  };
  std::vector<ExtraChunk> best_first;
  for (const retrieval::Hit& hit : index.Search(q)) best_first.push_back({index.path(hit), index.chunk(hit).text});
  request.input_extra.insert(request.input_extra.end(), best_first.rbegin(), best_first.rend());
  return static_cast<int32_t>(best_first.size());
}

}  // namespace tune::inference

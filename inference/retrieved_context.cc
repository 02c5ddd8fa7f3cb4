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
  // Ask for more than k: some hits may be text the prompt already holds.
  q.k = k + static_cast<int>(std::min<size_t>(request.input_extra.size(), 8)) + 2;
  auto already_sent = [&](const std::string& text) {
    for (const ExtraChunk& c : request.input_extra) {
      if (c.text.find(text) != std::string::npos) return true;
    }
    return prefix.find(text) != std::string::npos || request.input_suffix.find(text) != std::string::npos;
  };
  std::vector<ExtraChunk> best_first;
  for (const retrieval::Hit& hit : index.Search(q)) {
    const std::string& text = index.chunk(hit).text;
    if (already_sent(text)) continue;
    best_first.push_back({index.path(hit), text});
    if (static_cast<int32_t>(best_first.size()) == k) break;
  }
  request.input_extra.insert(request.input_extra.end(), best_first.rbegin(), best_first.rend());
  return static_cast<int32_t>(best_first.size());
}

}  // namespace tune::inference

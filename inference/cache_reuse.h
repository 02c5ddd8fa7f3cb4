// How much of a slot's cached K/V a new prompt keeps:
//   prefix   the longest common prefix stays in place;
//   chunks   llama.cpp's --cache-reuse: after the prefix, cached runs of >= min_chunk tokens that
//            come next in the prompt are shifted down over what the prompt dropped (an evicted
//            ring-buffer chunk, a deleted line);
//   tail     (with allow_tail) the longest run that ends the prompt, found anywhere in the cache
//            after the prefix: an IDE request after an edit in the middle of the file (prefix,
//            edit, rest of the file, <MID>) computes the edit, not everything after it.
// The plan that keeps most wins. Shifted K/V were computed with the old text before them, as in
// llama.cpp; min_chunk = 0 turns both shifting modes off. The last prompt token is always
// computed again: its logits start the reply.
//
// llama.cpp requires a sequence's new positions to follow its last cached one, so the engine keeps
// a tail aside in a scratch sequence while the edit is computed (inference/engine.cc).
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

namespace tune::inference {

struct KvMove {
  size_t from = 0;  // cache positions [from, from + n) ...
  size_t to = 0;    // ... become prompt positions [to, to + n)
  size_t n = 0;
};

struct CachePlan {
  size_t keep_prefix = 0;         // cache positions [0, keep_prefix) stay
  std::vector<KvMove> moves;      // chunks: ascending, contiguous from keep_prefix, each to <= from
  bool tail = false;              // moves is one tail move (to + n = prompt size), maybe upward
  std::vector<size_t> evaluate;   // prompt positions to compute, ascending; ends with the last
  size_t reused() const;          // prompt tokens not computed
};

// Tokens a and b share from the start.
size_t CommonPrefix(const std::vector<int32_t>& a, const std::vector<int32_t>& b);

// `prompt` must not be empty. reuse = false: compute everything (cache_prompt off, or the cache
// was made with other adapter scales).
CachePlan PlanCacheReuse(const std::vector<int32_t>& cache, const std::vector<int32_t>& prompt,
                         bool reuse, size_t min_chunk, bool allow_tail = false);

}  // namespace tune::inference

#include "inference/cache_reuse.h"

#include <algorithm>

namespace tune::inference {
size_t CommonPrefix(const std::vector<int32_t>& a, const std::vector<int32_t>& b) {
  size_t n = 0;
  while (n < a.size() && n < b.size() && a[n] == b[n]) ++n;
  return n;
}

namespace {

// llama.cpp's chunk walk: the cache pointer advances until a run of >= min_chunk tokens equals
// what the prompt needs next; that run is kept, shifted down.
std::vector<KvMove> ChunkMoves(const std::vector<int32_t>& cache, const std::vector<int32_t>& prompt,
                               size_t start, size_t min_chunk) {
  std::vector<KvMove> moves;
  size_t head_c = start, head_p = start;
  while (head_c < cache.size() && head_p < prompt.size()) {
    size_t n = 0;
    while (head_c + n < cache.size() && head_p + n < prompt.size() && cache[head_c + n] == prompt[head_p + n]) ++n;
    if (n < min_chunk) {
      ++head_c;
      continue;
    }
    moves.push_back({head_c, head_p, n});
    head_c += n;
    head_p += n;
  }
  return moves;
}

// The longest run of cache tokens after `start` equal to the prompt's last tokens (after
// `start`), as one move; none when shorter than min_chunk.
std::vector<KvMove> TailMove(const std::vector<int32_t>& cache, const std::vector<int32_t>& prompt,
                             size_t start, size_t min_chunk) {
  const size_t p = prompt.size();
  KvMove best;
  for (size_t end = start + 1; end <= cache.size(); ++end) {
    if (cache[end - 1] != prompt[p - 1]) continue;
    const size_t limit = std::min(end - start, p - start);
    size_t n = 0;
    while (n < limit && cache[end - 1 - n] == prompt[p - 1 - n]) ++n;
    if (n > best.n) best = {end - n, p - n, n};
  }
  if (best.n < std::max<size_t>(min_chunk, 1)) return {};
  return {best};
}

size_t Covered(const std::vector<KvMove>& moves) {
  size_t n = 0;
  for (const KvMove& m : moves) n += m.n;
  return n;
}

}  // namespace

size_t CachePlan::reused() const {
  const size_t total = evaluate.empty() ? 0 : evaluate.back() + 1;
  return total - evaluate.size();
}

CachePlan PlanCacheReuse(const std::vector<int32_t>& cache, const std::vector<int32_t>& prompt, bool reuse,
                         size_t min_chunk, bool allow_tail) {
  CachePlan plan;
  const size_t p = prompt.size();
  plan.keep_prefix = reuse ? CommonPrefix(cache, prompt) : 0;
  if (reuse && min_chunk > 0 && plan.keep_prefix < p && plan.keep_prefix < cache.size()) {
    plan.moves = ChunkMoves(cache, prompt, plan.keep_prefix, min_chunk);
    if (allow_tail) {
      std::vector<KvMove> tail = TailMove(cache, prompt, plan.keep_prefix, min_chunk);
      if (Covered(tail) > Covered(plan.moves)) {
        plan.moves = std::move(tail);
        plan.tail = true;
      }
    }
  }
  // Every prompt position neither kept nor moved is computed, and so is the last one.
  std::vector<bool> have(p, false);
  for (size_t i = 0; i < std::min(plan.keep_prefix, p); ++i) have[i] = true;
  for (const KvMove& m : plan.moves) {
    for (size_t i = 0; i < m.n; ++i) have[m.to + i] = true;
  }
  have[p - 1] = false;
  for (size_t i = 0; i < p; ++i) {
    if (!have[i]) plan.evaluate.push_back(i);
  }
  return plan;
}

}  // namespace tune::inference

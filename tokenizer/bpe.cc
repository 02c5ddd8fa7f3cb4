#include "tokenizer/bpe.h"

#include <algorithm>
#include <climits>
#include <queue>

namespace tune::tokenizer::internal {
namespace {

// Words up to this many symbols use the quadratic scan (no heap, no allocation); longer ones
// (SentencePiece lines, long identifiers) the heap.
constexpr size_t kShortWord = 32;

}  // namespace

void BpeMerges::Add(int32_t left, int32_t right, int32_t rank, int32_t merged) {
  auto [it, inserted] = table_.try_emplace(Key(left, right), Target{rank, merged});
  if (!inserted && rank < it->second.rank) it->second = Target{rank, merged};
}

void BpeMerges::Apply(std::vector<int32_t>& symbols) const {
  if (symbols.size() < 2) return;
  if (symbols.size() <= kShortWord) {
    ApplyShort(symbols);
  } else {
    ApplyLong(symbols);
  }
}

void BpeMerges::ApplyShort(std::vector<int32_t>& symbols) const {
  int32_t rank[kShortWord];
  int32_t merged[kShortWord];
  size_t n = symbols.size();
  auto look = [&](size_t i) {
    const Target* t = Find(symbols[i], symbols[i + 1]);
    rank[i] = t ? t->rank : INT_MAX;
    merged[i] = t ? t->merged : -1;
  };
  for (size_t i = 0; i + 1 < n; ++i) look(i);
  while (n > 1) {
    size_t best = 0;
    for (size_t i = 1; i + 1 < n; ++i) {
      if (rank[i] < rank[best]) best = i;
    }
    if (rank[best] == INT_MAX) break;
    symbols[best] = merged[best];
    symbols.erase(symbols.begin() + static_cast<ptrdiff_t>(best) + 1);
    std::copy(rank + best + 1, rank + n - 1, rank + best);
    std::copy(merged + best + 1, merged + n - 1, merged + best);
    --n;
    if (best > 0) look(best - 1);
    if (best + 1 < n) look(best);
  }
}

void BpeMerges::ApplyLong(std::vector<int32_t>& symbols) const {
  struct Candidate {
    int32_t rank;
    int32_t pos;
    int32_t merged;
    bool operator>(const Candidate& o) const {
      return rank != o.rank ? rank > o.rank : pos > o.pos;
    }
  };
  const auto n = static_cast<int32_t>(symbols.size());
  std::vector<int32_t> prev(n), next(n);
  for (int32_t i = 0; i < n; ++i) prev[i] = i - 1, next[i] = i + 1 < n ? i + 1 : -1;
  std::priority_queue<Candidate, std::vector<Candidate>, std::greater<>> heap;
  auto push = [&](int32_t pos) {
    if (pos < 0 || next[pos] < 0) return;
    if (const Target* t = Find(symbols[pos], symbols[next[pos]])) {
      heap.push({t->rank, pos, t->merged});
    }
  };
  for (int32_t i = 0; i + 1 < n; ++i) push(i);
  while (!heap.empty()) {
    const Candidate c = heap.top();
    heap.pop();
    const int32_t right = next[c.pos];
    if (symbols[c.pos] < 0 || right < 0) continue;
    const Target* t = Find(symbols[c.pos], symbols[right]);
    if (t == nullptr || t->merged != c.merged || t->rank != c.rank) continue;  // stale
    symbols[c.pos] = c.merged;
    symbols[right] = -1;
    next[c.pos] = next[right];
    if (next[right] >= 0) prev[next[right]] = c.pos;
    push(prev[c.pos]);
    push(c.pos);
  }
  symbols.erase(std::remove(symbols.begin(), symbols.end(), -1), symbols.end());
}

}  // namespace tune::tokenizer::internal

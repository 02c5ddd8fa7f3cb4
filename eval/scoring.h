// How one completion is scored against the held-out middle, and how two models' scores on the
// same tasks are compared. Plain functions, no model.
//
// Text is compared right-trimmed (trailing spaces and newlines are layout, not content).
//   exact match       the completion equals the middle
//   edit similarity   1 - Levenshtein(completion, middle) / max(bytes of either); 1 when both empty
// Paired comparison of base and tuned on the same n tasks: the mean delta with a 95% percentile
// bootstrap interval, and a two-sided p-value: the exact McNemar test for 0/1 scores (only the
// tasks where the two disagree count), a sign-flip permutation test on the per-task deltas
// otherwise. Both resample with a fixed seed, so a report is reproducible.
#pragma once

#include <cstdint>
#include <string_view>
#include <vector>

namespace tune::eval {

std::string_view TrimRight(std::string_view s);
bool ExactMatch(std::string_view expected, std::string_view completion);
double EditSimilarity(std::string_view expected, std::string_view completion);

struct PairedComparison {
  int64_t n = 0;
  double base_mean = 0, tuned_mean = 0;
  double delta = 0;               // tuned_mean - base_mean
  double ci_low = 0, ci_high = 0;  // 95% bootstrap interval of delta
  double p_value = 1;
  bool significant() const { return n > 0 && p_value < 0.05; }
};

// base and tuned: one score per task, same order and size. binary: every score is 0 or 1.
PairedComparison ComparePaired(const std::vector<double>& base, const std::vector<double>& tuned,
                               bool binary);

}  // namespace tune::eval

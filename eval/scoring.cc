#include "eval/scoring.h"

#include <algorithm>
#include <cmath>
#include <numeric>
#include <random>

namespace tune::eval {
namespace {

constexpr int kResamples = 10000;
constexpr uint64_t kSeed = 20261204;

double Mean(const std::vector<double>& v) {
  return v.empty() ? 0.0 : std::accumulate(v.begin(), v.end(), 0.0) / static_cast<double>(v.size());
}

// Two-sided exact McNemar: under the null each discordant pair goes either way with p = 1/2.
double McNemarExact(int64_t base_only, int64_t tuned_only) {
  const int64_t n = base_only + tuned_only;
  if (n == 0) return 1.0;
  const int64_t k = std::min(base_only, tuned_only);
  double tail = 0;
  for (int64_t i = 0; i <= k; ++i) {
    // log C(n, i) - n log 2
    tail += std::exp(std::lgamma(n + 1.0) - std::lgamma(i + 1.0) - std::lgamma(n - i + 1.0) -
                     static_cast<double>(n) * std::log(2.0));
  }
  return std::min(1.0, 2 * tail);
}

double SignFlipP(const std::vector<double>& deltas, std::mt19937_64& rng) {
  const double observed = std::abs(Mean(deltas));
  if (observed == 0) return 1.0;
  std::bernoulli_distribution flip(0.5);
  int64_t as_extreme = 0;
  for (int r = 0; r < kResamples; ++r) {
    double sum = 0;
    for (double d : deltas) sum += flip(rng) ? -d : d;
    if (std::abs(sum / static_cast<double>(deltas.size())) >= observed - 1e-12) ++as_extreme;
  }
  return (as_extreme + 1.0) / (kResamples + 1.0);
}

void BootstrapInterval(const std::vector<double>& deltas, std::mt19937_64& rng, double& low, double& high) {
  std::uniform_int_distribution<size_t> pick(0, deltas.size() - 1);
  std::vector<double> means(kResamples);
  for (double& m : means) {
    double sum = 0;
    for (size_t i = 0; i < deltas.size(); ++i) sum += deltas[pick(rng)];
    m = sum / static_cast<double>(deltas.size());
  }
  std::sort(means.begin(), means.end());
  low = means[static_cast<size_t>(0.025 * (kResamples - 1))];
  high = means[static_cast<size_t>(0.975 * (kResamples - 1))];
}

}  // namespace

std::string_view TrimRight(std::string_view s) {
  const size_t end = s.find_last_not_of(" \t\r\n");
  return end == std::string_view::npos ? std::string_view() : s.substr(0, end + 1);
}

bool ExactMatch(std::string_view expected, std::string_view completion) {
  return TrimRight(expected) == TrimRight(completion);
}

double EditSimilarity(std::string_view expected, std::string_view completion) {
  const std::string_view a = TrimRight(expected), b = TrimRight(completion);
  if (a.empty() && b.empty()) return 1.0;
  std::vector<size_t> row(b.size() + 1), next(b.size() + 1);
  std::iota(row.begin(), row.end(), size_t{0});
  for (size_t i = 1; i <= a.size(); ++i) {
    next[0] = i;
    for (size_t j = 1; j <= b.size(); ++j) {
      next[j] = std::min({row[j] + 1, next[j - 1] + 1, row[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1)});
    }
    std::swap(row, next);
  }
  return 1.0 - static_cast<double>(row[b.size()]) / static_cast<double>(std::max(a.size(), b.size()));
}

PairedComparison ComparePaired(const std::vector<double>& base, const std::vector<double>& tuned,
                               bool binary) {
  PairedComparison c;
  c.n = static_cast<int64_t>(std::min(base.size(), tuned.size()));
  if (c.n == 0) return c;
  std::vector<double> deltas(static_cast<size_t>(c.n));
  int64_t base_only = 0, tuned_only = 0;
  for (size_t i = 0; i < deltas.size(); ++i) {
    deltas[i] = tuned[i] - base[i];
    base_only += deltas[i] < 0;
    tuned_only += deltas[i] > 0;
  }
  c.base_mean = Mean(std::vector<double>(base.begin(), base.begin() + c.n));
  c.tuned_mean = Mean(std::vector<double>(tuned.begin(), tuned.begin() + c.n));
  c.delta = c.tuned_mean - c.base_mean;
  std::mt19937_64 rng(kSeed);
  BootstrapInterval(deltas, rng, c.ci_low, c.ci_high);
  c.p_value = binary ? McNemarExact(base_only, tuned_only) : SignFlipP(deltas, rng);
  return c;
}

}  // namespace tune::eval

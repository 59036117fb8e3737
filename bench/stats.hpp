#pragma once
// Percentiles of a benchmark's rounds, the same way engine_bench.sh computes them: linear
// interpolation between the nearest ranks (with 3 rounds p90 lies between the middle and
// the largest). Spread is (p90 - p10) / p50: how far apart the typical rounds were.
#include <algorithm>
#include <cstdio>
#include <stdexcept>
#include <string>
#include <vector>

namespace bench {

struct Summary {
  double p10 = 0, p50 = 0, p90 = 0, min = 0, max = 0;
  double spread() const { return p50 == 0 ? 0 : (p90 - p10) / p50; }
};

inline double percentile(std::vector<double> values, double p) {
  if (values.empty()) throw std::invalid_argument("percentile of no values");
  std::sort(values.begin(), values.end());
  const double rank = (static_cast<double>(values.size()) - 1) * p / 100;
  const auto below = static_cast<std::size_t>(rank);
  const std::size_t above = std::min(below + 1, values.size() - 1);
  return values[below] + (rank - static_cast<double>(below)) * (values[above] - values[below]);
}

inline Summary summarize(const std::vector<double>& values) {
  Summary s;
  s.p10 = percentile(values, 10);
  s.p50 = percentile(values, 50);
  s.p90 = percentile(values, 90);
  s.min = *std::min_element(values.begin(), values.end());
  s.max = *std::max_element(values.begin(), values.end());
  return s;
}

// Per-round ratios a[i] / b[i] of two paths measured in the same rounds.
inline std::vector<double> ratios(const std::vector<double>& a, const std::vector<double>& b) {
  std::vector<double> out;
  for (std::size_t i = 0; i < a.size() && i < b.size(); ++i) out.push_back(a[i] / b[i]);
  return out;
}

}  // namespace bench

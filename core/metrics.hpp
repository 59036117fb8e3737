#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <map>
#include <mutex>
#include <string>

#include "core/job_state.hpp"

namespace dray::core {

/// Process-lifetime counters for GET /metrics. Thread-safe, cheap to update.
class Metrics {
 public:
  /// Upper bounds (seconds) of the step duration histogram buckets; +Inf is implicit.
  static constexpr std::array<double, 10> kStepBuckets{0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300};

  struct Snapshot {
    std::map<Status, std::uint64_t> jobs_by_status;  ///< finished jobs
    std::uint64_t steps_ok = 0;
    std::uint64_t steps_failed = 0;
    std::array<std::uint64_t, kStepBuckets.size() + 1> step_buckets{};  ///< cumulative counts, last = +Inf
    double step_seconds_sum = 0;
    std::uint64_t log_lines = 0;
    std::uint64_t engine_errors = 0;
    std::uint64_t step_retries = 0;
  };

  void jobFinished(Status status);
  void stepFinished(bool ok, double seconds);
  void logLines(std::uint64_t count) { log_lines_ += count; }
  void engineError() { ++engine_errors_; }
  void stepRetried() { ++step_retries_; }
  Snapshot snapshot() const;

 private:
  mutable std::mutex mutex_;
  std::map<Status, std::uint64_t> jobs_by_status_;
  std::uint64_t steps_ok_ = 0;
  std::uint64_t steps_failed_ = 0;
  std::array<std::uint64_t, kStepBuckets.size() + 1> step_buckets_{};
  double step_seconds_sum_ = 0;
  std::atomic<std::uint64_t> log_lines_{0};
  std::atomic<std::uint64_t> engine_errors_{0};
  std::atomic<std::uint64_t> step_retries_{0};
};

/// Now as RFC 3339 UTC with microseconds, e.g. "2026-11-27T14:49:21.123456Z".
std::string nowRfc3339();

}  // namespace dray::core

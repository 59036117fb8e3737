#include "core/metrics.hpp"

#include <Poco/DateTimeFormat.h>
#include <Poco/DateTimeFormatter.h>
#include <Poco/Timestamp.h>

namespace dray::core {

void Metrics::jobFinished(Status status) {
  std::lock_guard lock(mutex_);
  ++jobs_by_status_[status];
}

void Metrics::stepFinished(bool ok, double seconds) {
  std::lock_guard lock(mutex_);
  ++(ok ? steps_ok_ : steps_failed_);
  step_seconds_sum_ += seconds;
  for (std::size_t i = 0; i < kStepBuckets.size(); ++i) {
    if (seconds <= kStepBuckets[i]) ++step_buckets_[i];
  }
  ++step_buckets_.back();  // +Inf holds every observation
}

Metrics::Snapshot Metrics::snapshot() const {
  std::lock_guard lock(mutex_);
  Snapshot s;
  s.jobs_by_status = jobs_by_status_;
  s.steps_ok = steps_ok_;
  s.steps_failed = steps_failed_;
  s.step_buckets = step_buckets_;
  s.step_seconds_sum = step_seconds_sum_;
  s.log_lines = log_lines_;
  s.engine_errors = engine_errors_;
  s.step_retries = step_retries_;
  return s;
}

std::string nowRfc3339() {
  return Poco::DateTimeFormatter::format(Poco::Timestamp(), Poco::DateTimeFormat::ISO8601_FRAC_FORMAT);
}

}  // namespace dray::core

#pragma once

#include <chrono>
#include <condition_variable>
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <thread>

#include "dray/sdk/storage.hpp"

namespace dray::core {

/// Settles jobs whose storage write had an unknown outcome: POST /jobs answered 503 (or a
/// queue-full rollback failed) but Redis may still have stored the record. Some time
/// later, once storage answers, a record that exists while no worker holds it is ended
/// `error` with a `dray:` line saying why, so no job stays `running` with nothing behind
/// it. One background thread; thread-safe.
class OrphanReconciler {
 public:
  /// `is_active`: whether the runner holds a job. `settle_after`: how long a write may
  /// still land (the storage's own deadline) before the record's state is final.
  OrphanReconciler(sdk::Storage& storage, std::function<bool(const std::string&)> is_active,
                   std::chrono::milliseconds settle_after);
  ~OrphanReconciler();
  OrphanReconciler(const OrphanReconciler&) = delete;
  OrphanReconciler& operator=(const OrphanReconciler&) = delete;

  /// Checks `job_id` once its write can no longer land, and again until storage answers.
  void watch(const std::string& job_id);
  std::size_t watching() const;

 private:
  using Clock = std::chrono::steady_clock;
  void loop();
  bool settle(const std::string& job_id);  // true when done with it

  sdk::Storage& storage_;
  std::function<bool(const std::string&)> is_active_;
  std::chrono::milliseconds settle_after_;
  mutable std::mutex mutex_;
  std::condition_variable wake_;
  std::multimap<Clock::time_point, std::string> due_;
  bool stopping_ = false;
  std::thread thread_;
};

}  // namespace dray::core

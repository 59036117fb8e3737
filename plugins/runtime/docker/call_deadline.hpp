#pragma once

#include <chrono>
#include <condition_variable>
#include <mutex>
#include <thread>

#include "plugins/runtime/docker/call_interrupt.hpp"

namespace dray::plugins::runtime::docker {

/// Fires `interrupt` when the guarded work is still under way `limit` after construction:
/// a bound on a whole call, where socket timeouts only bound each wait (a pull that trickles
/// progress would never trip those). One watcher thread per object; the destructor ends it.
class CallDeadline {
 public:
  CallDeadline(CallInterrupt& interrupt, std::chrono::milliseconds limit)
      : interrupt_(interrupt), thread_([this, limit] { watch(limit); }) {}
  ~CallDeadline() {
    {
      std::lock_guard lock(mutex_);
      finished_ = true;
    }
    changed_.notify_all();
    thread_.join();
  }
  CallDeadline(const CallDeadline&) = delete;
  CallDeadline& operator=(const CallDeadline&) = delete;

  /// True once the limit passed and the interrupt was fired.
  bool expired() const {
    std::lock_guard lock(mutex_);
    return expired_;
  }

 private:
  void watch(std::chrono::milliseconds limit) {
    std::unique_lock lock(mutex_);
    if (changed_.wait_for(lock, limit, [this] { return finished_; })) return;
    expired_ = true;
    lock.unlock();
    interrupt_.fire();
  }

  CallInterrupt& interrupt_;
  mutable std::mutex mutex_;
  std::condition_variable changed_;
  bool finished_ = false;
  bool expired_ = false;
  std::thread thread_;  // last: starts once the members above exist
};

}  // namespace dray::plugins::runtime::docker

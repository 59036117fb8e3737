#pragma once

#include <chrono>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <stop_token>
#include <thread>

#include "plugins/runtime/docker/call_interrupt.hpp"

namespace dray::plugins::runtime::docker {

/// Waits for a stop request on a thread of its own, so the stop callback (which may run on
/// a thread holding the host's locks) only flips a flag. On stop it kills the container;
/// when the guarded work has not ended `grace` later it fires `interrupt`, which cuts the
/// attach stream and the engine call in flight, so the work returns whatever the engine does.
class StopGuard {
 public:
  /// `kill` may be empty (nothing to kill: the guard only cuts `interrupt` after `grace`).
  StopGuard(std::stop_token stop, std::chrono::milliseconds grace, std::function<void(CallInterrupt&)> kill,
            CallInterrupt& interrupt)
      : grace_(grace), kill_(std::move(kill)), interrupt_(interrupt), on_stop_(stop, [this] { signal(stopping_); }),
        thread_([this] { watch(); }) {}

  /// Marks the run ended and joins the watcher. True when the kill was ignored.
  bool finish() {
    signal(finished_);
    if (thread_.joinable()) thread_.join();
    return abandoned_;
  }
  ~StopGuard() { finish(); }

 private:
  void signal(bool& flag) {
    {
      std::lock_guard lock(mutex_);
      flag = true;
    }
    changed_.notify_all();
  }

  void watch() {
    std::unique_lock lock(mutex_);
    changed_.wait(lock, [this] { return stopping_ || finished_; });
    if (finished_) return;
    lock.unlock();
    CallInterrupt kill_call;
    std::thread killer([this, &kill_call] {
      if (kill_) kill_(kill_call);
    });
    lock.lock();
    if (!changed_.wait_for(lock, grace_, [this] { return finished_; })) {
      abandoned_ = true;
      interrupt_.fire();
    }
    lock.unlock();
    kill_call.fire();  // a kill still under way is moot now: the work ended or was cut
    killer.join();     // done, or cut short by kill_call.fire()
  }

  std::chrono::milliseconds grace_;
  std::function<void(CallInterrupt&)> kill_;
  CallInterrupt& interrupt_;
  std::mutex mutex_;
  std::condition_variable changed_;
  bool stopping_ = false;
  bool finished_ = false;
  bool abandoned_ = false;
  std::stop_callback<std::function<void()>> on_stop_;
  std::thread thread_;
};

}  // namespace dray::plugins::runtime::docker

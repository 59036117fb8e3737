#pragma once

#include <condition_variable>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace dray::api {

/// Threads that run handlers for complete requests, so the front's I/O thread never
/// waits on storage or the engine. Tasks run in arrival order; the queue is bounded by the
/// front (one task per connection at most).
class HandlerPool {
 public:
  explicit HandlerPool(unsigned threads);
  ~HandlerPool();
  HandlerPool(const HandlerPool&) = delete;
  HandlerPool& operator=(const HandlerPool&) = delete;

  void post(std::function<void()> task);
  /// Lets running tasks finish, drops queued ones, joins the threads.
  void stop();

 private:
  void work();

  std::mutex mutex_;
  std::condition_variable ready_;
  std::deque<std::function<void()>> tasks_;
  bool stopping_ = false;
  std::vector<std::thread> threads_;
};

}  // namespace dray::api

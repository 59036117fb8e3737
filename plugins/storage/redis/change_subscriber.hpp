#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <string>
#include <thread>

#include "dray/sdk/log.hpp"
#include "plugins/storage/common/change_notifier.hpp"
#include "plugins/storage/redis/redis_address.hpp"
#include "plugins/storage/redis/redis_keys.hpp"

namespace dray::plugins::storage::redis {

/// Listens on every job's change channel (PSUBSCRIBE `<change channel prefix>*`) on a
/// connection of its own and tells the notifier, so live events learn of changes made by any
/// dray sharing this Redis, this one included, once they are readable. After a lost
/// connection it reconnects with backoff and tells JobChange::kResync: what happened
/// meanwhile was not announced.
class ChangeSubscriber {
 public:
  ChangeSubscriber(RedisAddress address, const RedisKeys& keys, std::chrono::milliseconds timeout,
                   const ChangeNotifier& notifier, sdk::Logger& logger);
  ~ChangeSubscriber();

  /// Waits until the first subscription is in place (changes from then on are told); false
  /// when it was not within `wait`.
  bool waitSubscribed(std::chrono::milliseconds wait);
  ChangeSubscriber(const ChangeSubscriber&) = delete;
  ChangeSubscriber& operator=(const ChangeSubscriber&) = delete;

 private:
  void run();
  // One connection's life: subscribes, then hands on messages until it fails or we stop.
  void listen(bool resubscribed);

  const RedisAddress address_;
  const std::string prefix_;
  const std::chrono::milliseconds timeout_;
  const ChangeNotifier& notifier_;
  sdk::Logger& logger_;
  std::atomic<bool> stopping_{false};
  std::mutex mutex_;
  std::condition_variable subscribed_changed_;
  bool subscribed_ = false;
  std::thread thread_;
};

}  // namespace dray::plugins::storage::redis

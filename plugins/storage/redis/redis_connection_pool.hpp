#pragma once

#include <chrono>
#include <functional>

#include <Poco/ObjectPool.h>
#include <Poco/Redis/Client.h>

#include "dray/sdk/errors.hpp"
#include "plugins/storage/redis/redis_address.hpp"

namespace dray::plugins::storage::redis {

/// Redis could not be reached (as opposed to an error Redis answered with): worth retrying.
class RedisUnreachable : public sdk::StorageError {
 public:
  using sdk::StorageError::StorageError;
};

// Clients are created unconnected and (re)connected by the lease, outside the pool lock:
// Poco's pool leaks capacity when activation throws, and a dead client must be
// reconnectable after Redis comes back.
struct ClientFactory {
  Poco::Redis::Client::Ptr createObject() { return new Poco::Redis::Client; }
  bool validateObject(Poco::Redis::Client::Ptr client) { return !client.isNull(); }
  void activateObject(Poco::Redis::Client::Ptr) {}
  void deactivateObject(Poco::Redis::Client::Ptr) {}
  void destroyObject(Poco::Redis::Client::Ptr) {}
};

/// A fixed-size pool of Redis connections with reconnect-on-borrow and retries.
/// Thread-safe.
class RedisConnectionPool {
 public:
  RedisConnectionPool(RedisAddress address, std::size_t size, std::chrono::milliseconds timeout);

  /// Runs `command` on a connected client. On a connection failure the client is
  /// dropped and the call retried with backoff (100 ms doubling to 2 s) until `patience`
  /// has passed; then RedisUnreachable. Errors Redis itself reports are not retried and
  /// throw sdk::StorageError.
  /// Only give idempotent work to a call with patience > 0.
  template <typename T>
  T run(const std::function<T(Poco::Redis::Client&)>& command, std::chrono::milliseconds patience);

  const RedisAddress& address() const { return address_; }

 private:
  void connect(Poco::Redis::Client& client);
  void runOnce(const std::function<void(Poco::Redis::Client&)>& command);
  void runWithRetry(const std::function<void(Poco::Redis::Client&)>& command, std::chrono::milliseconds patience);

  RedisAddress address_;
  std::chrono::milliseconds timeout_;
  ClientFactory factory_;
  Poco::ObjectPool<Poco::Redis::Client, Poco::Redis::Client::Ptr, ClientFactory> pool_;
};

template <typename T>
T RedisConnectionPool::run(const std::function<T(Poco::Redis::Client&)>& command, std::chrono::milliseconds patience) {
  T result{};
  runWithRetry([&](Poco::Redis::Client& client) { result = command(client); }, patience);
  return result;
}

}  // namespace dray::plugins::storage::redis

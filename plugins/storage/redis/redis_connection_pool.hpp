#pragma once

#include <chrono>
#include <functional>

#include <Poco/ObjectPool.h>
#include <Poco/SharedPtr.h>

#include "dray/sdk/errors.hpp"
#include "plugins/storage/redis/redis_address.hpp"
#include "plugins/storage/redis/redis_connection.hpp"

namespace dray::plugins::storage::redis {

/// Redis could not be reached (as opposed to an error Redis answered with): worth retrying.
class RedisUnreachable : public sdk::StorageError {
 public:
  using sdk::StorageError::StorageError;
};

using ConnectionPtr = Poco::SharedPtr<RedisConnection>;

// Connections are created unconnected and (re)connected by the lease, outside the pool
// lock: Poco's pool leaks capacity when activation throws, and a dead connection must be
// reconnectable after Redis comes back.
struct ConnectionFactory {
  ConnectionPtr createObject() { return new RedisConnection; }
  bool validateObject(ConnectionPtr connection) { return !connection.isNull(); }
  void activateObject(ConnectionPtr) {}
  void deactivateObject(ConnectionPtr) {}
  void destroyObject(ConnectionPtr) {}
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
  T run(const std::function<T(RedisConnection&)>& command, std::chrono::milliseconds patience);

  const RedisAddress& address() const { return address_; }

 private:
  void connect(RedisConnection& connection);
  void runOnce(const std::function<void(RedisConnection&)>& command);
  void runWithRetry(const std::function<void(RedisConnection&)>& command, std::chrono::milliseconds patience);

  RedisAddress address_;
  std::chrono::milliseconds timeout_;
  ConnectionFactory factory_;
  Poco::ObjectPool<RedisConnection, ConnectionPtr, ConnectionFactory> pool_;
};

template <typename T>
T RedisConnectionPool::run(const std::function<T(RedisConnection&)>& command, std::chrono::milliseconds patience) {
  T result{};
  runWithRetry([&](RedisConnection& client) { result = command(client); }, patience);
  return result;
}

}  // namespace dray::plugins::storage::redis

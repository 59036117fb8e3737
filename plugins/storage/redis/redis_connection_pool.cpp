#include "plugins/storage/redis/redis_connection_pool.hpp"

#include <thread>

#include <Poco/Net/NetException.h>
#include <Poco/Redis/Command.h>
#include <Poco/Redis/Exception.h>

#include "dray/sdk/errors.hpp"

namespace dray::plugins::storage::redis {
namespace {

// Borrows a client and always gives it back, connected or not.
class Lease {
 public:
  template <typename Pool>
  Lease(Pool& pool, long timeout_ms) : give_back_([&pool](ConnectionPtr c) { pool.returnObject(c); }) {
    client_ = pool.borrowObject(timeout_ms);
    if (client_.isNull())
      throw sdk::StorageError("no Redis connection free within " + std::to_string(timeout_ms) + " ms");
  }
  ~Lease() { give_back_(client_); }
  RedisConnection& operator*() { return *client_; }

 private:
  std::function<void(ConnectionPtr)> give_back_;
  ConnectionPtr client_;
};

// A failure of the connection, or a Redis not ready yet (as opposed to an error Redis
// answered with). A restarted Redis accepts connections while it reads its data back in and
// answers LOADING meanwhile: the data is coming, so that is worth waiting for too.
bool connectionLost(const Poco::Exception& e) {
  if (dynamic_cast<const Poco::Net::NetException*>(&e) || dynamic_cast<const Poco::TimeoutException*>(&e) ||
      dynamic_cast<const Poco::IOException*>(&e) || dynamic_cast<const Poco::AssertionViolationException*>(&e)) {
    return true;
  }
  if (dynamic_cast<const Poco::Redis::RedisException*>(&e) && e.message().starts_with("LOADING")) return true;
  return e.message().find("Lost connection") != std::string::npos;
}

}  // namespace

RedisConnectionPool::RedisConnectionPool(RedisAddress address, std::size_t size, std::chrono::milliseconds timeout)
    : address_(std::move(address)), timeout_(timeout), pool_(factory_, size, size) {}

void RedisConnectionPool::connect(RedisConnection& client) {
  client.connect(address_.host, address_.port, timeout_);
  if (!address_.password.empty()) {
    Poco::Redis::Command auth("AUTH");
    auth << address_.password;
    client.execute<std::string>(auth);
  }
  if (address_.db != 0) {
    Poco::Redis::Command select("SELECT");
    select << std::to_string(address_.db);
    client.execute<std::string>(select);
  }
  // Answered LOADING (thrown) until a restarted Redis has its data back. Pipelined writes
  // would get that answer per command instead, and take it for a refusal: lines lost.
  client.execute<std::string>(Poco::Redis::Command("PING"));
}

void RedisConnectionPool::runOnce(const std::function<void(RedisConnection&)>& command) {
  Lease lease(pool_, static_cast<long>(timeout_.count()));
  RedisConnection& client = *lease;
  try {
    if (!client.isConnected()) connect(client);
    command(client);
  } catch (const Poco::Exception& e) {
    if (connectionLost(e) && client.isConnected()) client.disconnect();
    throw;
  }
}

void RedisConnectionPool::runWithRetry(const std::function<void(RedisConnection&)>& command,
                                       std::chrono::milliseconds patience) {
  const auto deadline = std::chrono::steady_clock::now() + patience;
  std::chrono::milliseconds backoff(100);
  for (;;) {
    try {
      runOnce(command);
      return;
    } catch (const Poco::Exception& e) {
      if (!connectionLost(e)) throw sdk::StorageError("Redis at " + address_.describe() + ": " + e.message());
      if (std::chrono::steady_clock::now() + backoff > deadline) {
        throw RedisUnreachable("cannot reach Redis at " + address_.describe() + ": " + e.displayText());
      }
    }
    std::this_thread::sleep_for(backoff);
    backoff = std::min(backoff * 2, std::chrono::milliseconds(2000));
  }
}

}  // namespace dray::plugins::storage::redis

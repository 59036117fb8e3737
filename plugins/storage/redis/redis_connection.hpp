#pragma once

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include <Poco/Net/StreamSocket.h>
#include <Poco/Redis/Array.h>
#include <Poco/Redis/Error.h>
#include <Poco/Redis/Exception.h>
#include <Poco/Redis/RedisStream.h>
#include <Poco/Redis/Type.h>

namespace dray::plugins::storage::redis {

/// One connection to Redis speaking RESP through Poco's encoder and reply parser, on a
/// socket we own so that it can have TCP_NODELAY.
///
/// Why not Poco::Redis::Client: it writes through a 1 KiB stream buffer and keeps its
/// socket private. A command longer than that (our Lua calls carry a job's JSON) leaves in
/// several segments, and Nagle holds the last one until Redis' delayed ACK of the first:
/// about 40 ms per write on Linux, measured (issue 20). Here every command, or a whole
/// pipeline, leaves in one send and no segment waits for an ACK.
/// Not thread-safe: one user at a time (the pool's lease).
class RedisConnection {
 public:
  RedisConnection() = default;
  RedisConnection(const RedisConnection&) = delete;
  RedisConnection& operator=(const RedisConnection&) = delete;

  /// Connects (replacing any previous connection); `timeout` bounds the connect and,
  /// afterwards, every send and every wait for a reply.
  void connect(const std::string& host, int port, std::chrono::milliseconds timeout);
  void disconnect();
  bool isConnected() const { return input_ != nullptr; }

  /// Sends one command and reads its reply as T (Int64, std::string, BulkString, Array or
  /// void). An error reply throws Poco::Redis::RedisException with Redis' message.
  template <typename T>
  T execute(const Poco::Redis::Array& command);

  /// Sends all commands in one write (pipelining), then reads one reply each. Error
  /// replies are returned in place, not thrown: callers decide per command.
  Poco::Redis::Array sendCommands(const std::vector<Poco::Redis::Array>& commands);

  /// Sends one command without reading a reply (SUBSCRIBE and friends).
  void send(const Poco::Redis::Array& command);

  /// Reads the next reply (or pushed message). Throws Poco::TimeoutException when none
  /// arrives within the connection's timeout, and a RedisException on a closed connection.
  Poco::Redis::RedisType::Ptr readReply();

  /// Waits up to `wait` for a reply to begin; false when none did. For a subscriber that
  /// must also notice it is being stopped.
  bool poll(std::chrono::milliseconds wait);

 private:
  void sendAll(const std::string& bytes);

  Poco::Net::StreamSocket socket_;
  std::unique_ptr<Poco::Redis::RedisInputStream> input_;
};

template <typename T>
T RedisConnection::execute(const Poco::Redis::Array& command) {
  send(command);
  Poco::Redis::RedisType::Ptr reply = readReply();
  if (reply->type() == Poco::Redis::RedisTypeTraits<Poco::Redis::Error>::TypeId) {
    auto* error = dynamic_cast<Poco::Redis::Type<Poco::Redis::Error>*>(reply.get());
    throw Poco::Redis::RedisException(error->value().getMessage());
  }
  if constexpr (std::is_void_v<T>) {
    return;
  } else {
    if (reply->type() != Poco::Redis::RedisTypeTraits<T>::TypeId) throw Poco::BadCastException();
    return dynamic_cast<Poco::Redis::Type<T>*>(reply.get())->value();
  }
}

}  // namespace dray::plugins::storage::redis

#include "plugins/storage/redis/redis_connection.hpp"

#include <Poco/Net/NetException.h>

namespace dray::plugins::storage::redis {
namespace {

Poco::Timespan toTimespan(std::chrono::milliseconds ms) {
  return Poco::Timespan(static_cast<Poco::Timespan::TimeDiff>(ms.count()) * 1000);
}

}  // namespace

void RedisConnection::connect(const std::string& host, int port, std::chrono::milliseconds timeout) {
  disconnect();
  Poco::Net::StreamSocket socket;
  socket.connect(Poco::Net::SocketAddress(host, static_cast<Poco::UInt16>(port)), toTimespan(timeout));
  socket.setNoDelay(true);
  socket.setSendTimeout(toTimespan(timeout));
  socket.setReceiveTimeout(toTimespan(timeout));
  socket_ = socket;
  input_ = std::make_unique<Poco::Redis::RedisInputStream>(socket_);
}

void RedisConnection::disconnect() {
  input_.reset();
  try {
    socket_.close();
  } catch (const Poco::Exception&) {
    // Already closed or never opened: nothing to release.
  }
}

void RedisConnection::sendAll(const std::string& bytes) {
  if (!isConnected()) throw Poco::Redis::RedisException("Lost connection: not connected");
  const char* data = bytes.data();
  std::size_t left = bytes.size();
  while (left > 0) {
    int sent = socket_.sendBytes(data, static_cast<int>(std::min<std::size_t>(left, 1 << 30)));
    if (sent <= 0) throw Poco::Redis::RedisException("Lost connection while sending to Redis");
    data += sent;
    left -= static_cast<std::size_t>(sent);
  }
}

void RedisConnection::send(const Poco::Redis::Array& command) { sendAll(command.toString()); }

Poco::Redis::Array RedisConnection::sendCommands(const std::vector<Poco::Redis::Array>& commands) {
  std::string bytes;
  for (const auto& command : commands) bytes += command.toString();
  sendAll(bytes);
  Poco::Redis::Array replies;
  for (std::size_t i = 0; i < commands.size(); ++i) replies.addRedisType(readReply());
  return replies;
}

Poco::Redis::RedisType::Ptr RedisConnection::readReply() {
  if (!isConnected()) throw Poco::Redis::RedisException("Lost connection: not connected");
  int marker = input_->get();
  if (marker == std::char_traits<char>::eof()) throw Poco::Redis::RedisException("Lost connection to Redis");
  Poco::Redis::RedisType::Ptr reply = Poco::Redis::RedisType::createRedisType(static_cast<char>(marker));
  if (reply.isNull()) throw Poco::Redis::RedisException("Lost connection: Redis sent an unknown reply type");
  reply->read(*input_);
  return reply;
}

bool RedisConnection::poll(std::chrono::milliseconds wait) {
  if (!isConnected()) throw Poco::Redis::RedisException("Lost connection: not connected");
  // Bytes already in the stream buffer count as a reply that has begun.
  if (input_->rdbuf()->in_avail() > 0) return true;
  return socket_.poll(toTimespan(wait), Poco::Net::Socket::SELECT_READ);
}

}  // namespace dray::plugins::storage::redis

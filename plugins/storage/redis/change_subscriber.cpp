#include "plugins/storage/redis/change_subscriber.hpp"

#include <optional>

#include <Poco/Redis/Array.h>
#include <Poco/Redis/Command.h>

#include "plugins/storage/redis/redis_connection.hpp"

namespace dray::plugins::storage::redis {
namespace {

// How often a quiet listener looks whether it is being stopped.
constexpr std::chrono::milliseconds kStopCheck{200};
// After this much silence the listener PINGs: a connection dropped without a FIN (a
// firewall, a frozen Redis) is noticed, not taken for a quiet cluster.
constexpr std::chrono::seconds kPingAfter{5};

std::string text(const Poco::Redis::Array& message, std::size_t i) {
  if (message.getType(i) != Poco::Redis::RedisTypeTraits<Poco::Redis::BulkString>::TypeId) return "";
  auto value = message.get<Poco::Redis::BulkString>(i);
  return value.isNull() ? "" : value.value();
}

sdk::JobChange changeNamed(const std::string& name) {
  if (name == "log") return sdk::JobChange::kLog;
  if (name == "removed") return sdk::JobChange::kRemoved;
  return sdk::JobChange::kRecord;
}

}  // namespace

ChangeSubscriber::ChangeSubscriber(RedisAddress address, const RedisKeys& keys, std::chrono::milliseconds timeout,
                                   const ChangeNotifier& notifier, sdk::Logger& logger)
    : address_(std::move(address)), prefix_(keys.changeChannelPrefix()), timeout_(timeout), notifier_(notifier),
      logger_(logger) {
  thread_ = std::thread([this] { run(); });
}

ChangeSubscriber::~ChangeSubscriber() {
  stopping_ = true;
  thread_.join();
}

bool ChangeSubscriber::waitSubscribed(std::chrono::milliseconds wait) {
  std::unique_lock lock(mutex_);
  return subscribed_changed_.wait_for(lock, wait, [this] { return subscribed_; });
}

void ChangeSubscriber::run() {
  std::chrono::milliseconds backoff(100);
  bool lost = false;
  while (!stopping_) {
    try {
      listen(lost);
      return;
    } catch (const Poco::Exception& e) {
      if (!lost) logger_.warn("redis storage: change listener lost Redis (" + e.displayText() + "); reconnecting");
      lost = true;
    }
    for (auto slept = std::chrono::milliseconds(0); slept < backoff && !stopping_; slept += kStopCheck) {
      std::this_thread::sleep_for(kStopCheck);
    }
    backoff = std::min(backoff * 2, std::chrono::milliseconds(2000));
  }
}

void ChangeSubscriber::listen(bool resubscribed) {
  RedisConnection connection;
  connection.connect(address_.host, address_.port, timeout_);
  if (!address_.password.empty()) {
    Poco::Redis::Command auth("AUTH");
    auth << address_.password;
    connection.execute<std::string>(auth);
  }
  // Channels are not per database, so no SELECT: the prefix keeps deployments apart.
  Poco::Redis::Command subscribe("PSUBSCRIBE");
  subscribe << prefix_ + "*";
  connection.execute<Poco::Redis::Array>(subscribe);
  {
    std::lock_guard lock(mutex_);
    subscribed_ = true;
  }
  subscribed_changed_.notify_all();
  if (resubscribed) {
    logger_.info("redis storage: change listener is back");
    notifier_.notify("", sdk::JobChange::kResync);
  }
  auto last_heard = std::chrono::steady_clock::now();
  std::optional<std::chrono::steady_clock::time_point> ping_sent;
  while (!stopping_) {
    if (!connection.poll(kStopCheck)) {
      const auto now = std::chrono::steady_clock::now();
      if (ping_sent && now - *ping_sent > timeout_) throw Poco::TimeoutException("Redis did not answer a PING");
      if (!ping_sent && now - last_heard > kPingAfter) {
        connection.send(Poco::Redis::Command("PING"));
        ping_sent = now;
      }
      continue;
    }
    Poco::Redis::RedisType::Ptr reply = connection.readReply();
    last_heard = std::chrono::steady_clock::now();
    ping_sent.reset();
    auto* array = dynamic_cast<Poco::Redis::Type<Poco::Redis::Array>*>(reply.get());
    if (!array) continue;
    const Poco::Redis::Array& message = array->value();
    // ["pmessage", pattern, channel, payload]
    if (message.size() != 4 || text(message, 0) != "pmessage") continue;
    const std::string channel = text(message, 2);
    if (!channel.starts_with(prefix_)) continue;
    notifier_.notify(channel.substr(prefix_.size()), changeNamed(text(message, 3)));
  }
}

}  // namespace dray::plugins::storage::redis

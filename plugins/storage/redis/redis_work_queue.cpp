#include "plugins/storage/redis/redis_work_queue.hpp"

#include <algorithm>

#include <Poco/Redis/Array.h>
#include <Poco/Redis/Command.h>

#include "plugins/storage/redis/redis_scripts.hpp"

namespace dray::plugins::storage::redis {
namespace {

using Poco::Redis::Array;
using Poco::Redis::BulkString;
using Poco::Redis::Command;

constexpr const char* kGroup = "dray";
constexpr const char* kMaxPending = "1000";  // entries read per call of pending() and claim()

std::string text(const Array& array, std::size_t i) {
  BulkString value = array.get<BulkString>(i);
  return value.isNull() ? std::string() : value.value();
}

// Stream entries [[id, [field, value, …]], …] as queue entries; an entry whose fields are
// gone (deleted after it was delivered) keeps an empty job id.
std::vector<sdk::QueueEntry> entriesOf(const Array& entries) {
  std::vector<sdk::QueueEntry> result;
  if (entries.isNull()) return result;
  for (std::size_t i = 0; i < entries.size(); ++i) {
    const Array entry = entries.get<Array>(i);
    sdk::QueueEntry parsed{text(entry, 0), ""};
    const Array fields = entry.get<Array>(1);
    for (std::size_t f = 0; !fields.isNull() && f + 1 < fields.size(); f += 2) {
      if (text(fields, f) == "job") parsed.job_id = text(fields, f + 1);
    }
    result.push_back(std::move(parsed));
  }
  return result;
}

// The entries of the one stream in an XREAD/XREADGROUP reply ([[key, entries]] or nil).
Array streamEntries(const Array& reply) {
  if (reply.isNull() || reply.size() == 0) return Array();
  return reply.get<Array>(0).get<Array>(1);
}

bool isNoGroup(const std::exception& e) { return std::string(e.what()).find("NOGROUP") != std::string::npos; }

}  // namespace

RedisWorkQueue::RedisWorkQueue(RedisConnectionPool& pool, const RedisKeys& keys, std::chrono::milliseconds timeout,
                               std::chrono::milliseconds patience)
    : pool_(pool), keys_(keys), timeout_(timeout), patience_(patience), stream_(keys.queue()) {
  createGroup();
}

void RedisWorkQueue::createGroup() {
  Command command("XGROUP");
  command << "CREATE" << stream_ << kGroup << "0"
          << "MKSTREAM";
  try {
    pool_.run<std::string>([&](RedisConnection& client) { return client.execute<std::string>(command); }, patience_);
  } catch (const sdk::StorageError& e) {
    if (std::string(e.what()).find("BUSYGROUP") == std::string::npos) throw;  // it exists: fine
  }
}

std::chrono::milliseconds RedisWorkQueue::blockFor(std::chrono::milliseconds wait) const {
  return std::clamp(wait, std::chrono::milliseconds(1),
                    std::max(timeout_ - std::chrono::milliseconds(500), std::chrono::milliseconds(1)));
}

void RedisWorkQueue::push(const std::string& job_id) {
  Command command("XADD");
  command << stream_ << "*"
          << "job" << job_id;
  // Not retried: a retry after a lost reply could queue the job twice.
  pool_.run<BulkString>([&](RedisConnection& client) { return client.execute<BulkString>(command); },
                        std::chrono::milliseconds(0));
}

std::vector<sdk::QueueEntry> RedisWorkQueue::take(const std::string& node, std::size_t max,
                                                  std::chrono::milliseconds wait) {
  Command command("XREADGROUP");
  command << "GROUP" << kGroup << node << "COUNT" << std::to_string(std::max<std::size_t>(max, 1)) << "BLOCK"
          << std::to_string(blockFor(wait).count()) << "STREAMS" << stream_ << ">";
  try {
    // Not retried: what a lost reply delivered stays pending for this node (pending()).
    return entriesOf(streamEntries(pool_.run<Array>(
        [&](RedisConnection& client) { return client.execute<Array>(command); }, std::chrono::milliseconds(0))));
  } catch (const sdk::StorageError& e) {
    if (!isNoGroup(e)) throw;
    createGroup();  // the stream was deleted (FLUSHALL, a key TTL): start again
    return {};
  }
}

std::vector<sdk::QueueEntry> RedisWorkQueue::pending(const std::string& node) {
  // Reading from id 0 gives this consumer's own pending entries, with their fields.
  Command command("XREADGROUP");
  command << "GROUP" << kGroup << node << "COUNT" << kMaxPending << "STREAMS" << stream_ << "0";
  return entriesOf(streamEntries(
      pool_.run<Array>([&](RedisConnection& client) { return client.execute<Array>(command); }, patience_)));
}

std::vector<sdk::QueueEntry> RedisWorkQueue::claim(const std::string& from, const std::string& to,
                                                   std::chrono::milliseconds min_idle) {
  Command list("XPENDING");
  list << stream_ << kGroup << "-"
       << "+" << kMaxPending << from;
  const Array pending =
      pool_.run<Array>([&](RedisConnection& client) { return client.execute<Array>(list); }, patience_);
  if (pending.isNull() || pending.size() == 0) return {};
  Command claim("XCLAIM");
  claim << stream_ << kGroup << to << std::to_string(min_idle.count());
  for (std::size_t i = 0; i < pending.size(); ++i) claim << text(pending.get<Array>(i), 0);
  // Retrying is safe: an entry claimed by the lost reply is idle for less than min_idle now.
  return entriesOf(pool_.run<Array>([&](RedisConnection& client) { return client.execute<Array>(claim); }, patience_));
}

void RedisWorkQueue::acknowledge(const std::string& entry_id) {
  Command ack("XACK");
  ack << stream_ << kGroup << entry_id;
  Command remove("XDEL");
  remove << stream_ << entry_id;
  pool_.run<Array>([&](RedisConnection& client) { return client.sendCommands({ack, remove}); }, patience_);
}

std::vector<std::string> RedisWorkQueue::consumers() {
  Command command("XINFO");
  command << "CONSUMERS" << stream_ << kGroup;
  const Array reply =
      pool_.run<Array>([&](RedisConnection& client) { return client.execute<Array>(command); }, patience_);
  std::vector<std::string> names;
  for (std::size_t i = 0; !reply.isNull() && i < reply.size(); ++i) {
    const Array fields = reply.get<Array>(i);  // name, <name>, pending, <n>, idle, <ms>, …
    for (std::size_t f = 0; f + 1 < fields.size(); f += 2) {
      if (text(fields, f) == "name") names.push_back(text(fields, f + 1));
    }
  }
  return names;
}

void RedisWorkQueue::forget(const std::string& node) {
  // DELCONSUMER drops a consumer's pending entries with it: only one with none goes.
  Command command("EVAL");
  command << kForgetConsumerScript << "1" << stream_ << kGroup << node;
  pool_.run<Poco::Int64>([&](RedisConnection& client) { return client.execute<Poco::Int64>(command); }, patience_);
}

std::size_t RedisWorkQueue::depth() {
  Command command("EVAL");
  command << kQueueDepthScript << "1" << stream_ << kGroup;
  const auto waiting =
      pool_.run<Poco::Int64>([&](RedisConnection& client) { return client.execute<Poco::Int64>(command); }, patience_);
  return static_cast<std::size_t>(std::max<Poco::Int64>(waiting, 0));
}

bool RedisWorkQueue::reserve(const std::string& job_id, const std::string& node) {
  Command command("EVAL");
  command << kReserveJobScript << "1" << keys_.job(job_id) << node;
  return pool_.run<Poco::Int64>([&](RedisConnection& client) { return client.execute<Poco::Int64>(command); },
                                patience_) == 1;
}

bool RedisWorkQueue::transfer(const std::string& job_id, const std::string& from, const std::string& to) {
  Command command("EVAL");
  command << kTransferJobScript << "1" << keys_.job(job_id) << from << to;
  return pool_.run<Poco::Int64>([&](RedisConnection& client) { return client.execute<Poco::Int64>(command); },
                                patience_) == 1;
}

void RedisWorkQueue::send(const std::string& node, const std::string& message) {
  Command command("XADD");
  command << keys_.control(node) << "MAXLEN"
          << "~"
          << "1000"
          << "*"
          << "m" << message;
  pool_.run<BulkString>([&](RedisConnection& client) { return client.execute<BulkString>(command); },
                        std::chrono::milliseconds(0));
}

std::vector<sdk::NodeMessage> RedisWorkQueue::receive(const std::string& node, std::string& cursor,
                                                      std::chrono::milliseconds wait) {
  const std::string key = keys_.control(node);
  if (cursor.empty()) {
    // After the last message sent so far: XREAD's "$" would lose what comes between calls.
    Command last("XREVRANGE");
    last << key << "+"
         << "-"
         << "COUNT"
         << "1";
    const Array newest =
        pool_.run<Array>([&](RedisConnection& client) { return client.execute<Array>(last); }, patience_);
    cursor = newest.isNull() || newest.size() == 0 ? "0-0" : text(newest.get<Array>(0), 0);
  }
  Command command("XREAD");
  command << "COUNT"
          << "100"
          << "BLOCK" << std::to_string(blockFor(wait).count()) << "STREAMS" << key << cursor;
  const Array entries = streamEntries(
      pool_.run<Array>([&](RedisConnection& client) { return client.execute<Array>(command); }, patience_));
  std::vector<sdk::NodeMessage> messages;
  for (std::size_t i = 0; !entries.isNull() && i < entries.size(); ++i) {
    const Array entry = entries.get<Array>(i);
    sdk::NodeMessage message{text(entry, 0), ""};
    const Array fields = entry.get<Array>(1);
    for (std::size_t f = 0; !fields.isNull() && f + 1 < fields.size(); f += 2) {
      if (text(fields, f) == "m") message.text = text(fields, f + 1);
    }
    cursor = message.id;
    messages.push_back(std::move(message));
  }
  return messages;
}

}  // namespace dray::plugins::storage::redis

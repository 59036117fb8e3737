#include "plugins/storage/redis/redis_storage.hpp"

#include <Poco/UUIDGenerator.h>

#include <cstdint>

#include <Poco/NumberParser.h>
#include <Poco/Redis/Array.h>
#include <Poco/Redis/Command.h>

#include "dray/sdk/errors.hpp"
#include "plugins/storage/redis/redis_keys.hpp"
#include "plugins/storage/redis/redis_scripts.hpp"
#include "plugins/storage/redis/step_record_codec.hpp"
#include "plugins/storage/redis/webhook_codec.hpp"

namespace dray::plugins::storage::redis {
namespace {

using Poco::Redis::Array;
using Poco::Redis::BulkString;
using Poco::Redis::Command;

std::vector<std::string> strings(const Array& array) {
  std::vector<std::string> result;
  if (array.isNull()) return result;  // Poco parses an empty reply ("*0") as a null array
  result.reserve(array.size());
  for (std::size_t i = 0; i < array.size(); ++i) {
    BulkString value = array.get<BulkString>(i);
    result.push_back(value.isNull() ? std::string() : value.value());
  }
  return result;
}

}  // namespace

std::size_t parseStepCount(const std::string& text) {
  Poco::UInt64 value = 0;
  if (Poco::NumberParser::tryParseUnsigned64(text, value)) return static_cast<std::size_t>(value);
  if (text.size() == 1) return static_cast<unsigned char>(text[0]);
  return 0;
}

namespace {

std::int64_t localMillis() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

}  // namespace

RedisStorage::RedisStorage(RedisAddress address, RedisStorageOptions options, sdk::Logger& logger)
    : options_(std::move(options)), keys_(options_.jobs_key), logger_(logger),
      pool_(std::move(address), options_.pool_size, options_.timeout) {
  options_.writes.key_ttl = options_.retention.key_ttl;
  pool_.run<std::string>([](RedisConnection& client) { return client.execute<std::string>(Command("PING")); },
                         options_.startup_wait);
  // Deadlines are checked against Redis's clock (TIME): learn how far it is from ours.
  Array time = pool_.run<Array>([](RedisConnection& client) { return client.execute<Array>(Command("TIME")); },
                                options_.startup_wait);
  const std::int64_t redis_millis =
      std::stoll(time.get<BulkString>(0).value()) * 1000 + std::stoll(time.get<BulkString>(1).value()) / 1000;
  clock_offset_ms_ = redis_millis - localMillis();
  writes_ = std::make_unique<WriteBehindQueue>(pool_, keys_, options_.writes, logger_);
  queue_ = std::make_unique<RedisWorkQueue>(pool_, keys_, options_.timeout, options_.read_patience);
  logger_.info("redis storage: connected to " + pool_.address().describe());
}

std::string RedisStorage::deadline() const {
  // A little before the caller gives up (patience), so that an answer in time is still
  // an answer before the deadline.
  const auto margin = std::min<std::int64_t>(options_.read_patience.count() / 4, 500);
  return std::to_string(localMillis() + clock_offset_ms_ + options_.read_patience.count() - margin);
}

void RedisStorage::createJob(const sdk::JobRecord& job) {
  Command command("EVAL");
  command << kCreateJobScript << "7";
  for (const auto& key : keys_.ofJob(job.id)) command << key;
  command << keys_.jobs() << keys_.queue() << job.id << std::to_string(job.total_steps)
          << std::to_string(job.completed_steps) << job.status << job.description << job.owner << job.name
          << job.created_at << job.creator << deadline()
          << Poco::UUIDGenerator::defaultGenerator().createRandom().toString()  // tells our retry from a clash
          << std::to_string(options_.retention.key_ttl.count()) << keys_.changeChannel(job.id);
  for (const auto& step : job.steps) command << encodeStepRecord(step);
  // The script is idempotent, so a retry after a lost reply is safe; past its deadline it
  // refuses itself, so once we report failure the job can no longer appear.
  auto created = pool_.run<Poco::Int64>([&](RedisConnection& client) { return client.execute<Poco::Int64>(command); },
                                        options_.read_patience);
  if (created == -2) throw sdk::StorageError("job " + job.id + " not stored: Redis did not answer in time");
  if (created == 0) throw sdk::StorageError("job " + job.id + " already exists");
}

std::optional<sdk::JobRecord> RedisStorage::getJob(const std::string& id) {
  std::vector<Array> commands;
  commands.push_back(Command::hgetall(keys_.job(id)));
  commands.push_back(Command::get(keys_.description(id)));
  commands.push_back(Command::hgetall(keys_.steps(id)));
  Array replies =
      pool_.run<Array>([&](RedisConnection& client) { return client.sendCommands(commands); }, options_.read_patience);
  std::vector<std::string> fields = strings(replies.get<Array>(0));
  if (fields.empty()) return std::nullopt;
  sdk::JobRecord record;
  record.id = id;
  record.status.clear();  // the original left it empty until the job started
  for (std::size_t i = 0; i + 1 < fields.size(); i += 2) {
    if (fields[i] == "totalSteps") record.total_steps = parseStepCount(fields[i + 1]);
    if (fields[i] == "completedSteps") record.completed_steps = parseStepCount(fields[i + 1]);
    if (fields[i] == "status") record.status = fields[i + 1];
    if (fields[i] == "owner") record.owner = fields[i + 1];
    if (fields[i] == "name") record.name = fields[i + 1];
    if (fields[i] == "creator") record.creator = fields[i + 1];
    if (fields[i] == "createdAt") record.created_at = fields[i + 1];
    if (fields[i] == "startedAt") record.started_at = fields[i + 1];
    if (fields[i] == "finishedAt") record.finished_at = fields[i + 1];
    if (fields[i] == "finishedIn") record.finished_in = fields[i + 1];
    if (fields[i] == "callback") record.callback = decodeCallbackRecord(fields[i + 1]);
  }
  std::vector<std::string> steps = strings(replies.get<Array>(2));
  for (std::size_t i = 0; i + 1 < steps.size(); i += 2) {
    Poco::UInt64 index = 0;
    if (!Poco::NumberParser::tryParseUnsigned64(steps[i], index) || index >= 4096) continue;
    if (record.steps.size() <= index) record.steps.resize(index + 1);
    record.steps[index] = decodeStepRecord(steps[i + 1]);
  }
  BulkString description = replies.get<BulkString>(1);
  if (!description.isNull()) record.description = description.value();
  return record;
}

std::vector<std::string> RedisStorage::listJobs() {
  if (options_.retention.key_ttl.count() == 0) {
    return pool_.run<std::vector<std::string>>(
        [&](RedisConnection& client) { return strings(client.execute<Array>(Command::lrange(keys_.jobs(), 0, -1))); },
        options_.read_patience);
  }
  // Expired jobs leave their ids behind in the list: drop those (idempotent, so retried).
  Command command("EVAL");
  command << kListLiveJobsScript << "1" << keys_.jobs() << keys_.jobs();
  return pool_.run<std::vector<std::string>>(
      [&](RedisConnection& client) { return strings(client.execute<Array>(command)); }, options_.read_patience);
}

bool RedisStorage::deleteJob(const std::string& id) {
  Command command("EVAL");
  command << kDeleteJobScript << "6";
  for (const auto& key : keys_.ofJob(id)) command << key;
  command << keys_.jobs() << id << deadline() << keys_.changeChannel(id);
  auto removed = pool_.run<Poco::Int64>([&](RedisConnection& client) { return client.execute<Poco::Int64>(command); },
                                        options_.read_patience);
  if (removed == -2) throw sdk::StorageError("job " + id + " not deleted: Redis did not answer in time");
  return removed == 1;
}

FieldWrite RedisStorage::jobField(const std::string& id, std::string field, std::string value, bool announce) const {
  FieldWrite write;
  write.field = std::move(field);
  write.value = std::move(value);
  if (announce) {
    write.channel = eventChannel(id, write.field);
    write.message = write.value;
  }
  return write;
}

void RedisStorage::setStatus(const std::string& id, const std::string& status) {
  FieldWrite write = jobField(id, "status", status, true);
  write.unlist = options_.retention.remove_done && hasEnded(status);
  writes_->setField(id, std::move(write));
}

void RedisStorage::setCompletedSteps(const std::string& id, std::size_t completed) {
  writes_->setField(id, jobField(id, "completedSteps", std::to_string(completed), true));
}

void RedisStorage::setTimes(const std::string& id, const std::string& started_at, const std::string& finished_at) {
  // Ours, not the fork's: not announced.
  if (!started_at.empty()) writes_->setField(id, jobField(id, "startedAt", started_at, false));
  if (!finished_at.empty()) writes_->setField(id, jobField(id, "finishedAt", finished_at, false));
}

void RedisStorage::setFinishedIn(const std::string& id, const std::string& seconds) {
  writes_->setField(id, jobField(id, "finishedIn", seconds, true));
}

void RedisStorage::setOutput(const std::string& id, std::string_view bytes) {
  // Queued like the rest: written before the final status that the host sets after it, so
  // whoever hears `<id>:status complete` finds the output too.
  writes_->setOutput(id, bytes);
}

std::optional<std::string> RedisStorage::readOutput(const std::string& id) {
  BulkString value = pool_.run<BulkString>(
      [&](RedisConnection& client) { return client.execute<BulkString>(Command::get(keys_.output(id))); },
      options_.read_patience);
  if (value.isNull()) return std::nullopt;
  return value.value();
}

void RedisStorage::setStep(const std::string& id, std::size_t index, const sdk::StepRecord& step) {
  FieldWrite write;
  write.hash = FieldWrite::Hash::kSteps;
  write.field = std::to_string(index);
  write.value = encodeStepRecord(step);
  if (step.state == sdk::kStatusRunning) {  // a step (or a retry of it) starts: the fork's executeStep
    write.channel = eventChannel(id, "executeStep");
    write.message = step.image;
  }
  writes_->setField(id, std::move(write));
}

void RedisStorage::setCallback(const std::string& id, const sdk::CallbackRecord& callback) {
  writes_->setField(id, jobField(id, "callback", encodeCallbackRecord(callback), false));
}

void RedisStorage::saveDelivery(const sdk::PendingDelivery& delivery) {
  Command command("HSET");
  command << keys_.webhooks() << delivery.id << encodePendingDelivery(delivery);
  pool_.run<Poco::Int64>([&](RedisConnection& client) { return client.execute<Poco::Int64>(command); },
                         options_.read_patience);
}

void RedisStorage::removeDelivery(const std::string& delivery_id) {
  Command command("HDEL");
  command << keys_.webhooks() << delivery_id;
  pool_.run<Poco::Int64>([&](RedisConnection& client) { return client.execute<Poco::Int64>(command); },
                         options_.read_patience);
}

std::vector<sdk::PendingDelivery> RedisStorage::pendingDeliveries(const std::string& owner) {
  auto fields = pool_.run<std::vector<std::string>>(
      [&](RedisConnection& client) { return strings(client.execute<Array>(Command::hgetall(keys_.webhooks()))); },
      options_.read_patience);
  std::vector<sdk::PendingDelivery> pending;
  for (std::size_t i = 0; i + 1 < fields.size(); i += 2) {
    auto delivery = decodePendingDelivery(fields[i + 1]);
    if (delivery && delivery->owner == owner) pending.push_back(std::move(*delivery));
  }
  return pending;
}

void RedisStorage::appendLog(const std::string& id, std::span<const std::string_view> lines) {
  writes_->appendLog(id, lines);
}

std::vector<std::string> RedisStorage::readLog(const std::string& id, std::size_t from, std::size_t max_lines) {
  if (max_lines == 0) return {};
  const auto first = static_cast<Poco::Int64>(from);
  // -1 is "to the end" for LRANGE; also what a max_lines too large to add up means.
  const std::size_t room = static_cast<std::size_t>(INT64_MAX) - from;
  const Poco::Int64 last = max_lines > room ? -1 : static_cast<Poco::Int64>(from + max_lines - 1);
  return pool_.run<std::vector<std::string>>(
      [&](RedisConnection& client) {
        return strings(client.execute<Array>(Command::lrange(keys_.log(id), first, last)));
      },
      options_.read_patience);
}

sdk::HealthReport RedisStorage::checkHealth() {
  try {
    pool_.run<std::string>([](RedisConnection& client) { return client.execute<std::string>(Command("PING")); },
                           std::chrono::milliseconds(0));
    return {true, "redis at " + pool_.address().describe() + " answers PING"};
  } catch (const std::exception& e) {
    return {false, e.what()};
  }
}

bool RedisStorage::watchChanges(sdk::ChangeWatcher watcher) {
  notifier_.set(std::move(watcher));
  std::lock_guard lock(subscriber_mutex_);
  if (!subscriber_) {
    subscriber_ = std::make_unique<ChangeSubscriber>(pool_.address(), keys_, options_.timeout, notifier_, logger_);
    // Changes made from now on are told; a Redis that is away now gets a resync later.
    if (!subscriber_->waitSubscribed(options_.timeout))
      logger_.warn("redis storage: change listener not subscribed yet; live events wait for it");
  }
  return true;
}

void RedisStorage::flush() {
  if (!writes_->flush()) logger_.warn("redis storage: Redis did not take queued writes in time; they stay queued");
}

bool RedisStorage::runLeaseScript(const char* script, const std::string& name, const std::string& holder,
                                  const std::string& info, std::chrono::milliseconds ttl) {
  Command command("EVAL");
  command << script << "1" << keys_.node(name) << holder << info << std::to_string(ttl.count());
  return pool_.run<Poco::Int64>([&](RedisConnection& client) { return client.execute<Poco::Int64>(command); },
                                options_.read_patience) == 1;
}

bool RedisStorage::acquire(const std::string& name, const std::string& holder, const std::string& info,
                           std::chrono::milliseconds ttl) {
  return runLeaseScript(kAcquireNodeScript, name, holder, info, ttl);
}

bool RedisStorage::renew(const std::string& name, const std::string& holder, const std::string& info,
                         std::chrono::milliseconds ttl) {
  return runLeaseScript(kRenewNodeScript, name, holder, info, ttl);
}

void RedisStorage::release(const std::string& name, const std::string& holder) {
  Command command("EVAL");
  command << kReleaseNodeScript << "1" << keys_.node(name) << holder;
  pool_.run<Poco::Int64>([&](RedisConnection& client) { return client.execute<Poco::Int64>(command); },
                         options_.read_patience);
}

std::vector<std::pair<std::string, std::string>> RedisStorage::list() {
  // SCAN, not KEYS: a large keyspace is walked in slices without blocking Redis.
  std::vector<std::string> keys;
  std::string cursor = "0";
  do {
    Command scan("SCAN");
    scan << cursor << "MATCH" << keys_.nodePattern() << "COUNT"
         << "1000";
    Array reply =
        pool_.run<Array>([&](RedisConnection& client) { return client.execute<Array>(scan); }, options_.read_patience);
    cursor = reply.get<BulkString>(0).value();
    for (const auto& key : strings(reply.get<Array>(1))) keys.push_back(key);
  } while (cursor != "0");
  std::vector<std::pair<std::string, std::string>> nodes;
  if (keys.empty()) return nodes;
  Command get("MGET");
  for (const auto& key : keys) get << key;
  const std::vector<std::string> values = strings(
      pool_.run<Array>([&](RedisConnection& client) { return client.execute<Array>(get); }, options_.read_patience));
  const std::size_t prefix = keys_.node("").size();
  for (std::size_t i = 0; i < keys.size() && i < values.size(); ++i) {
    const auto newline = values[i].find('\n');
    if (newline == std::string::npos) continue;  // expired between SCAN and MGET (nil), or not ours
    nodes.emplace_back(keys[i].substr(prefix), values[i].substr(newline + 1));
  }
  return nodes;
}

}  // namespace dray::plugins::storage::redis

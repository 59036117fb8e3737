#pragma once

#include <memory>
#include <mutex>

#include "dray/sdk/log.hpp"
#include "dray/sdk/storage.hpp"
#include "plugins/storage/common/change_notifier.hpp"
#include "plugins/storage/common/retention.hpp"
#include "plugins/storage/redis/change_subscriber.hpp"
#include "plugins/storage/redis/redis_connection_pool.hpp"
#include "plugins/storage/redis/redis_keys.hpp"
#include "plugins/storage/redis/redis_work_queue.hpp"
#include "plugins/storage/redis/write_behind_queue.hpp"

namespace dray::plugins::storage::redis {

struct RedisStorageOptions {
  std::size_t pool_size = 8;
  std::chrono::milliseconds timeout{2000};        ///< connect and reply timeout
  std::chrono::milliseconds startup_wait{10000};  ///< how long start-up waits for Redis
  std::chrono::milliseconds read_patience{3000};  ///< API reads retry this long, then fail
  WriteBehindOptions writes;
  std::string jobs_key = "jobs";  ///< DRAY_JOBS_KEY: the prefix of every key
  Retention retention;            ///< DRAY_KEY_TTL, DRAY_REMOVE_DONE
};

/// Storage in Redis, in the original Dray's schema under a prefix (DRAY_JOBS_KEY, default
/// `jobs`): list `<prefix>`, hash `<prefix>:<id>` (`totalSteps`, `completedSteps`, `status`),
/// list `<prefix>:<id>:log`; the fork's `<prefix>:<id>:output` and `finishedIn` and
/// `createdAt` fields; our own `<prefix>:<id>:description`, `<prefix>:<id>:steps` and `owner`,
/// `name`, `startedAt`, `finishedAt` fields (all additive). As the fork did, changes of
/// `status`, `completedSteps`, `createdAt` and `finishedIn` are PUBLISHed on `<id>:<field>`
/// and each step's start on `<id>:executeStep`. Log lines and updates go through a
/// write-behind queue (batched, ordered, kept while Redis is away); creation and reads are
/// synchronous. With a TTL (DRAY_KEY_TTL) every write renews the expiry of all the job's keys.
/// Thread-safe.
class RedisStorage final : public sdk::Storage, public sdk::NodeRegistry {
 public:
  /// Connects and PINGs; throws sdk::StorageError if Redis does not answer within
  /// `options.startup_wait`.
  RedisStorage(RedisAddress address, RedisStorageOptions options, sdk::Logger& logger);

  void createJob(const sdk::JobRecord& job) override;
  std::optional<sdk::JobRecord> getJob(const std::string& id) override;
  std::vector<std::string> listJobs() override;
  bool deleteJob(const std::string& id) override;
  void setStatus(const std::string& id, const std::string& status) override;
  void setCompletedSteps(const std::string& id, std::size_t completed) override;
  void setTimes(const std::string& id, const std::string& started_at, const std::string& finished_at) override;
  void setFinishedIn(const std::string& id, const std::string& seconds) override;
  void setStep(const std::string& id, std::size_t index, const sdk::StepRecord& step) override;
  void setCallback(const std::string& id, const sdk::CallbackRecord& callback) override;
  /// The outbox is the hash `<prefix>:webhooks`, written at once (not behind): a delivery
  /// must be kept before it is first tried.
  void saveDelivery(const sdk::PendingDelivery& delivery) override;
  void removeDelivery(const std::string& delivery_id) override;
  std::vector<sdk::PendingDelivery> pendingDeliveries(const std::string& owner) override;
  void setOutput(const std::string& id, std::string_view bytes) override;
  std::optional<std::string> readOutput(const std::string& id) override;
  using sdk::Storage::appendLog;
  void appendLog(const std::string& id, std::span<const std::string_view> lines) override;
  std::vector<std::string> readLog(const std::string& id, std::size_t from, std::size_t max_lines) override;
  void flush() override;
  sdk::HealthReport checkHealth() override;
  /// Changes are announced on each job's change channel (RedisKeys::changeChannel) by the
  /// scripts that make them; the first watcher starts a listener on them.
  bool watchChanges(sdk::ChangeWatcher watcher) override;
  /// Node leases are the strings `<prefix>:nodes:<name>` ("<holder>\n<info>", with a TTL).
  sdk::NodeRegistry* nodes() override { return this; }
  /// The shared queue: the stream `<prefix>:queue` (RedisWorkQueue).
  sdk::WorkQueue* queue() override { return queue_.get(); }
  bool acquire(const std::string& name, const std::string& holder, const std::string& info,
               std::chrono::milliseconds ttl) override;
  bool renew(const std::string& name, const std::string& holder, const std::string& info,
             std::chrono::milliseconds ttl) override;
  void release(const std::string& name, const std::string& holder) override;
  std::vector<std::pair<std::string, std::string>> list() override;

 private:
  bool runLeaseScript(const char* script, const std::string& name, const std::string& holder, const std::string& info,
                      std::chrono::milliseconds ttl);

  // Milliseconds on Redis's clock by which a create or delete must have run, or never.
  std::string deadline() const;

  // A field write, announced on `<id>:<field>` when `announce`.
  FieldWrite jobField(const std::string& id, std::string field, std::string value, bool announce) const;

  RedisStorageOptions options_;
  RedisKeys keys_;
  std::int64_t clock_offset_ms_ = 0;  // Redis TIME minus our clock, measured at start-up
  sdk::Logger& logger_;
  RedisConnectionPool pool_;
  ChangeNotifier notifier_;
  std::mutex subscriber_mutex_;
  std::unique_ptr<ChangeSubscriber> subscriber_;  // after the notifier it tells
  std::unique_ptr<RedisWorkQueue> queue_;
  std::unique_ptr<WriteBehindQueue> writes_;  // last: stops (and flushes) first
};

/// Reads the original's totalSteps: a decimal number, or the raw character the original
/// wrote (Go's string(int)), e.g. "\x03" for 3.
std::size_t parseStepCount(const std::string& text);

}  // namespace dray::plugins::storage::redis

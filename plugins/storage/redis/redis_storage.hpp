#pragma once

#include <memory>

#include "dray/sdk/log.hpp"
#include "dray/sdk/storage.hpp"
#include "plugins/storage/redis/redis_connection_pool.hpp"
#include "plugins/storage/redis/write_behind_queue.hpp"

namespace dray::plugins::storage::redis {

struct RedisStorageOptions {
  std::size_t pool_size = 8;
  std::chrono::milliseconds timeout{2000};        ///< connect and reply timeout
  std::chrono::milliseconds startup_wait{10000};  ///< how long start-up waits for Redis
  std::chrono::milliseconds read_patience{3000};  ///< API reads retry this long, then fail
  WriteBehindOptions writes;
};

/// Storage in Redis, in the original Dray's schema: list `jobs`, hash `jobs:<id>`
/// (`totalSteps`, `completedSteps`, `status`), list `jobs:<id>:log`, plus our own
/// `jobs:<id>:description`, `jobs:<id>:steps` and `owner`, `name`, `createdAt`, `startedAt`,
/// `finishedAt` fields in the hash (all additive). Log lines and status updates go through a write-behind queue
/// (batched, ordered, kept while Redis is away); creation and reads are synchronous.
/// Thread-safe.
class RedisStorage final : public sdk::Storage {
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
  void setStep(const std::string& id, std::size_t index, const sdk::StepRecord& step) override;
  using sdk::Storage::appendLog;
  void appendLog(const std::string& id, std::span<const std::string_view> lines) override;
  std::vector<std::string> readLog(const std::string& id, std::size_t from, std::size_t max_lines) override;
  void flush() override;
  sdk::HealthReport checkHealth() override;

 private:
  // Milliseconds on Redis's clock by which a create or delete must have run, or never.
  std::string deadline() const;

  RedisStorageOptions options_;
  std::int64_t clock_offset_ms_ = 0;  // Redis TIME minus our clock, measured at start-up
  sdk::Logger& logger_;
  RedisConnectionPool pool_;
  std::unique_ptr<WriteBehindQueue> writes_;  // last: stops (and flushes) first
};

/// Reads the original's totalSteps: a decimal number, or the raw character the original
/// wrote (Go's string(int)), e.g. "\x03" for 3.
std::size_t parseStepCount(const std::string& text);

}  // namespace dray::plugins::storage::redis

#pragma once

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <map>
#include <mutex>
#include <span>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "dray/sdk/log.hpp"
#include "plugins/storage/redis/redis_connection_pool.hpp"

namespace dray::plugins::storage::redis {

struct WriteBehindOptions {
  std::size_t batch_lines = 1000;                ///< lines per RPUSH at most
  std::chrono::milliseconds flush_interval{50};  ///< longest a line waits to be written
  std::size_t max_pending_bytes = 64u << 20;     ///< producers block beyond this
};

/// Log lines and status fields on their way to Redis. Callers enqueue and return; one
/// writer thread sends them in order, many lines per scripted RPUSH (sent packed: one
/// argument of sizes, one of text, so no Redis argument per line on our side), all
/// pending commands in one pipeline. When Redis is unreachable the queue keeps everything (producers block
/// at `max_pending_bytes`) and retries with backoff until it is back. Thread-safe.
class WriteBehindQueue {
 public:
  WriteBehindQueue(RedisConnectionPool& pool, WriteBehindOptions options, sdk::Logger& logger);
  ~WriteBehindQueue();

  /// Copies the lines into one buffer (no allocation per line) and returns.
  void appendLog(const std::string& id, std::span<const std::string_view> lines);
  /// Sets `field` of hash `key` (the job's hash or one of its own) if the job still exists.
  void setField(const std::string& id, const std::string& key, const std::string& field, const std::string& value);

  /// Waits (up to `limit`) until everything enqueued before the call is in Redis.
  /// @return false if Redis did not take it in time (it stays queued).
  bool flush(std::chrono::milliseconds limit = std::chrono::seconds(30));

 private:
  struct Op {
    std::string job;
    std::string text;                // a log append (field empty): the lines back to back
    std::vector<std::size_t> sizes;  //   and the size of each
    std::string key;                 // for a field update: the hash to set
    std::string field;
    std::string value;
    std::size_t bytes = 0;
  };

  void enqueue(Op op);
  void writerLoop();
  void write(std::deque<Op>& ops);

  RedisConnectionPool& pool_;
  WriteBehindOptions options_;
  sdk::Logger& logger_;

  std::mutex mutex_;
  std::condition_variable wake_writer_;
  std::condition_variable progress_;
  std::deque<Op> queue_;
  std::size_t pending_bytes_ = 0;
  std::size_t pending_lines_ = 0;
  std::uint64_t enqueued_ = 0;  // ops ever enqueued
  std::uint64_t written_ = 0;   // ops ever written
  bool urgent_ = false;
  bool stopping_ = false;
  std::map<std::string, long long> log_length_;  // writer thread only
  std::thread writer_;
};

}  // namespace dray::plugins::storage::redis

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
#include "plugins/storage/redis/redis_keys.hpp"

namespace dray::plugins::storage::redis {

struct WriteBehindOptions {
  std::size_t batch_lines = 1000;               ///< lines per RPUSH at most
  std::chrono::milliseconds flush_interval{0};  ///< 0: group commit; > 0: also gather this long first
  std::size_t max_pending_bytes = 64u << 20;    ///< producers block beyond this
  std::chrono::seconds key_ttl{0};              ///< DRAY_KEY_TTL: > 0: every write renews the job's keys' expiry
};

/// One field of a job's hash or of its steps hash, and what to announce once it is written.
struct FieldWrite {
  enum class Hash { kJob, kSteps };
  Hash hash = Hash::kJob;
  std::string field;
  std::string value;
  std::string channel;  ///< PUBLISHed `message` right after the write (same script); empty: none
  std::string message;
  bool unlist = false;  ///< also removes the id from the jobs list (DRAY_REMOVE_DONE)
};

/// Log lines, fields and outputs on their way to Redis. Callers enqueue and return; one
/// writer thread sends them in order, many lines per scripted RPUSH (sent packed: one
/// argument of sizes, one of text, so no Redis argument per line on our side), all
/// pending commands in one pipeline. A field's PUBLISH and every key's EXPIRE travel in the
/// script of the write itself, so whoever hears an event can read everything written before
/// it. When Redis is unreachable the queue keeps everything (producers block at
/// `max_pending_bytes`) and retries with backoff until it is back; a retried pipeline may
/// publish an event twice, never lose one. Thread-safe.
class WriteBehindQueue {
 public:
  WriteBehindQueue(RedisConnectionPool& pool, RedisKeys keys, WriteBehindOptions options, sdk::Logger& logger);
  ~WriteBehindQueue();

  /// Copies the lines into one buffer (no allocation per line) and returns.
  void appendLog(const std::string& id, std::span<const std::string_view> lines);
  /// Sets a field of the job's hash or steps hash if the job still exists.
  void setField(const std::string& id, FieldWrite write);
  /// Replaces the job's output (`<prefix>:<id>:output`) if the job still exists.
  void setOutput(const std::string& id, std::string_view bytes);

  /// Waits (up to `limit`) until everything enqueued before the call is in Redis.
  /// @return false if Redis did not take it in time (it stays queued).
  bool flush(std::chrono::milliseconds limit = std::chrono::seconds(30));

 private:
  struct Op {
    enum class Kind { kLog, kField, kOutput };
    Kind kind = Kind::kLog;
    std::string job;
    std::string text;                // a log append: the lines back to back; an output: its bytes
    std::vector<std::size_t> sizes;  //   and the size of each line
    FieldWrite field;                // a field update
    std::size_t bytes = 0;
  };

  void enqueue(Op op);
  void writerLoop();
  void write(std::deque<Op>& ops);

  RedisConnectionPool& pool_;
  RedisKeys keys_;
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

#pragma once

#include <chrono>
#include <string>

#include "dray/sdk/work_queue.hpp"
#include "plugins/storage/redis/redis_connection_pool.hpp"
#include "plugins/storage/redis/redis_keys.hpp"

namespace dray::plugins::storage::redis {

/// The nodes' shared queue in Redis Streams: the stream `<prefix>:queue` with the consumer
/// group `dray` (one consumer per node, named after it), and per node the stream
/// `<prefix>:control:<node>` for messages to it (capped at about 1,000). A job's owner is
/// the `owner` field of its hash, set by scripts that check it first. Thread-safe.
class RedisWorkQueue final : public sdk::WorkQueue {
 public:
  /// Creates the group (and the stream) if missing. `timeout` is the connections' reply
  /// timeout: blocking reads wait a little less than that at a time.
  RedisWorkQueue(RedisConnectionPool& pool, const RedisKeys& keys, std::chrono::milliseconds timeout,
                 std::chrono::milliseconds patience);

  void push(const std::string& job_id) override;
  std::vector<sdk::QueueEntry> take(const std::string& node, std::size_t max, std::chrono::milliseconds wait) override;
  std::vector<sdk::QueueEntry> pending(const std::string& node) override;
  std::vector<sdk::QueueEntry> claim(const std::string& from, const std::string& to,
                                     std::chrono::milliseconds min_idle) override;
  void acknowledge(const std::string& entry_id) override;
  std::vector<std::string> consumers() override;
  void forget(const std::string& node) override;
  std::size_t depth() override;
  bool reserve(const std::string& job_id, const std::string& node) override;
  bool transfer(const std::string& job_id, const std::string& from, const std::string& to) override;
  void send(const std::string& node, const std::string& text) override;
  std::vector<sdk::NodeMessage> receive(const std::string& node, std::string& cursor,
                                        std::chrono::milliseconds wait) override;

 private:
  void createGroup();
  // A blocking read's wait, kept under the reply timeout.
  std::chrono::milliseconds blockFor(std::chrono::milliseconds wait) const;

  RedisConnectionPool& pool_;
  const RedisKeys& keys_;
  const std::chrono::milliseconds timeout_;
  const std::chrono::milliseconds patience_;
  const std::string stream_;
};

}  // namespace dray::plugins::storage::redis

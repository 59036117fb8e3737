#pragma once

#include <chrono>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <stdexcept>
#include <string>
#include <thread>

#include "dray/sdk/log.hpp"
#include "dray/sdk/nodes.hpp"

namespace dray::core {

/// Another live node holds the name.
class NodeNameTaken : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

struct NodeLeaseOptions {
  std::string name;                                 ///< DRAY_INSTANCE
  std::chrono::milliseconds ttl{10000};             ///< DRAY_NODE_TTL; renewed every ttl / 3
  std::function<std::string()> info;                ///< the node's JSON for GET /nodes, at each renewal
  std::function<void(const std::string&)> on_lost;  ///< no renewal for a whole ttl: fence (why)
  std::function<void()> on_regained{};              ///< after on_lost, the lease is this node's again
};

/// This node's lease on its name in a shared storage (several nodes on one Redis). Taken
/// when constructed, so a second process with the same name refuses to start before it
/// could reap the first one's containers; renewed every ttl/3 on a thread of its own. When
/// no renewal succeeded for ttl after it was sent, the lease may be another node's by now:
/// on_lost runs once, on a thread of its own at that very moment (the runner stops this
/// node's running jobs, so no job runs on two nodes), and the lease is taken again as soon
/// as it is free (then on_regained). Released when destroyed.
class NodeLease {
 public:
  /// Waits up to 4/3 ttl for a lease on the name to end (one left by a run of this node
  /// that was killed); throws NodeNameTaken when it is still held then (a live node renews
  /// it), sdk::StorageError when the storage cannot be reached.
  NodeLease(sdk::NodeRegistry& registry, NodeLeaseOptions options, sdk::Logger& logger);
  ~NodeLease();
  NodeLease(const NodeLease&) = delete;
  NodeLease& operator=(const NodeLease&) = delete;

  /// Unique to this process: who holds the lease.
  const std::string& holder() const { return holder_; }

 private:
  void renewLoop();
  void fenceLoop();

  sdk::NodeRegistry& registry_;
  const NodeLeaseOptions options_;
  sdk::Logger& logger_;
  const std::string holder_;
  std::mutex mutex_;
  std::mutex callbacks_mutex_;  // on_lost and on_regained, one at a time, in that order
  std::condition_variable wake_;
  bool stopping_ = false;
  bool fenced_ = false;
  std::chrono::steady_clock::time_point renewed_at_;  // when the last renewal that worked was sent
  std::string last_failure_;
  std::thread renewer_;
  std::thread fence_;
};

}  // namespace dray::core

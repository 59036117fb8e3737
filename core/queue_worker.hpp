#pragma once

#include <chrono>
#include <condition_variable>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <thread>

#include "core/job_resolver.hpp"
#include "core/job_runner.hpp"
#include "core/webhook_policy.hpp"
#include "dray/sdk/log.hpp"
#include "dray/sdk/nodes.hpp"
#include "dray/sdk/storage.hpp"
#include "dray/sdk/work_queue.hpp"

namespace dray::core {

struct QueueWorkerOptions {
  std::string node;                      ///< this node's name (DRAY_INSTANCE)
  std::chrono::milliseconds ttl{10000};  ///< DRAY_NODE_TTL: how often lost nodes are looked for, and the margin
  std::chrono::milliseconds wait{1000};  ///< how long one blocking read of the queue waits
  /// A job this worker ended itself (not a runner): its webhooks go out, as for any end.
  /// `callback` is the job's own, when it has one that needs no secret. Must not throw.
  std::function<void(const std::string& job_id, const std::optional<WebhookTarget>& callback)> on_ended{};
};

/// Turns a stored job into one this node can run (decode and resolve with this node's
/// channels and policies); throws ValidationError when it cannot.
using ResolveStored = std::function<ResolvedJob(const sdk::JobRecord&)>;

/// This node's side of the shared queue (several nodes on one Redis, docs/scaling.md):
/// - takes jobs only while it has idle workers, as many as it has, and runs them;
/// - acknowledges a job's entry when the job ended;
/// - takes over the entries of a node whose lease is gone: a job that had not started runs
///   here, one that ran there ends `error` ("node … was lost") or runs again from step 0
///   (`rerunOnNodeLoss`);
/// - cancels jobs when another node asks (messages through the queue);
/// - cancels, for the API, a job wherever it is: still waiting in the queue (it ends here)
///   or running on another node (that node is asked).
/// Three threads: taker, listener, and the caller's. Thread-safe.
class QueueWorker {
 public:
  QueueWorker(sdk::Storage& storage, sdk::WorkQueue& queue, sdk::NodeRegistry& nodes, JobRunner& runner,
              ResolveStored resolve, QueueWorkerOptions options, sdk::Logger& logger);
  ~QueueWorker();
  QueueWorker(const QueueWorker&) = delete;
  QueueWorker& operator=(const QueueWorker&) = delete;

  /// Starts taking work, beginning with this node's own unacknowledged entries (jobs a
  /// previous run of this node took): call after start-up recovery.
  void start();
  /// Stops taking work and gives back the jobs taken and not started (they stay this
  /// node's pending entries: another node takes them over once this node's lease is gone,
  /// or this node again when it starts). Before the runner shuts down.
  void stop();

  /// The jobs this node took from the queue and did not acknowledge (in a previous run):
  /// start-up recovery leaves them to start(), which runs those that had not started and
  /// ends (or runs again) those that had. Throws sdk::StorageError.
  std::set<std::string> pendingJobIds();

  /// Jobs waiting for a node, for 429s and /metrics. Throws sdk::StorageError.
  std::size_t depth() { return queue_.depth(); }

  /// The runner ended a job: its entry leaves the queue.
  void finished(const std::string& job_id);
  /// This node lost its lease: its queued jobs from the queue are given back (another node
  /// may take them over now); they are taken again once the lease is back (regained()).
  void fenced();
  void regained();

  /// Cancels a job this node's runner does not hold: one still waiting in the queue (or
  /// whose node is gone) ends `canceled` here; one another live node owns is canceled by that
  /// node, told through its message stream. False when the job is unknown or has ended.
  bool cancel(const std::string& job_id);

 private:
  void takeLoop();
  void listenLoop();
  // Runs or settles one entry; `lost_from`: the node it was taken over from ("" when it came
  // from the queue or is this node's own).
  void adopt(const sdk::QueueEntry& entry, const std::string& lost_from);
  void adoptOwnPending();
  std::set<std::string> liveNodes();  // the names holding a lease now
  void takeOverLostNodes();
  void endJobsKeptBy(const std::string& lost);
  void acknowledge(const std::string& entry_id);
  // Ends a job this node owns that will not run here, with a `dray:` line saying why.
  void endUnrun(const sdk::JobRecord& record, const std::string& status, const std::string& line);
  void resetForRerun(const sdk::JobRecord& record, const std::string& line);

  sdk::Storage& storage_;
  sdk::WorkQueue& queue_;
  sdk::NodeRegistry& nodes_;
  JobRunner& runner_;
  ResolveStored resolve_;
  const QueueWorkerOptions options_;
  sdk::Logger& logger_;

  std::mutex adopt_mutex_;  // one adoption or queued-cancel at a time: never both for one job
  std::mutex mutex_;
  std::condition_variable wake_;
  std::map<std::string, std::string> entries_;  // job id -> entry id, for the jobs given to the runner
  std::map<std::string, std::chrono::steady_clock::time_point> missing_since_;  // lost-looking nodes
  bool started_ = false;
  bool stopping_ = false;
  bool fenced_ = false;
  bool readopt_ = false;
  std::thread taker_;
  std::thread listener_;
};

}  // namespace dray::core

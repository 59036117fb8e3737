#pragma once

#include <chrono>
#include <condition_variable>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <stop_token>
#include <thread>
#include <unordered_set>
#include <vector>

#include "core/job_resolver.hpp"
#include "core/job_state.hpp"
#include "core/log_counting_storage.hpp"
#include "core/metrics.hpp"
#include "core/step_executor.hpp"
#include "core/step_pipeline.hpp"
#include "dray/sdk/runtime.hpp"
#include "dray/sdk/storage.hpp"

namespace dray::core {

struct RunnerOptions {
  unsigned workers = 4;                    ///< jobs running at the same time
  std::size_t max_queue = 1000;            ///< jobs waiting beyond that are refused
  std::size_t spool_memory = 1 << 20;      ///< bytes between steps kept in RAM
  std::size_t log_limit = 8u << 20;        ///< stdout/stderr bytes logged per step
  std::string instance = "dray";           ///< labels containers, owns jobs (restart recovery)
  bool held = false;                       ///< accept jobs but run none until release()
  std::size_t job_log_limit = 64u << 20;   ///< stdout/stderr bytes logged per job, all steps together
  std::size_t output_limit = 8u << 20;     ///< bytes of the last step's output kept as the job's output
  std::size_t stream_buffer = 256u << 10;  ///< bytes held between two steps of a stream-mode job
  double stream_drain = 5;                 ///< s the steps after a failed one get to end (stream mode)
  /// Called once per job after its final status is written (webhooks). Must not throw.
  std::function<void(const ResolvedJob& job, Status status)> on_finished{};
};

/// The queue is full: try again later (HTTP 429).
class QueueFull : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

/// Runs jobs on a fixed pool of worker threads: jobs run concurrently, the steps of one
/// job strictly in order (StepPipeline). A watchdog thread enforces step timeouts and job
/// deadlines. Status, steps completed and log go to storage as they change. Thread-safe.
///
/// Locking: mutex_ guards the queue and the running jobs' state only. Nothing slow runs
/// under it: a stop is decided under the lock (stopLocked) and requested after it is
/// released, because the runtime's stop callbacks run on the requesting thread.
class JobRunner {
 public:
  /// `runtime` is shared: containers it prepared keep the runtime plugin loaded.
  JobRunner(sdk::Storage& storage, std::shared_ptr<sdk::Runtime> runtime, RunnerOptions options);
  /// For tests: `runtime` is not owned and must outlive the runner.
  JobRunner(sdk::Storage& storage, sdk::Runtime& runtime, RunnerOptions options)
      : JobRunner(storage, std::shared_ptr<sdk::Runtime>(&runtime, [](sdk::Runtime*) {}), std::move(options)) {}

  /// Counters for GET /metrics (jobs, steps, durations, log lines, engine errors).
  const Metrics& metrics() const { return metrics_; }
  ~JobRunner();

  JobRunner(const JobRunner&) = delete;
  JobRunner& operator=(const JobRunner&) = delete;

  /// Queues a job. Throws QueueFull, or std::runtime_error after shutdown() began.
  void submit(ResolvedJob job);

  /// A queued job ends `canceled` at once; a running one has its container killed and
  /// removed, later steps skipped, and ends `canceled`. False if the job is not active.
  bool cancel(const std::string& id);

  /// Lets workers take jobs (after start-up recovery, when started with `held`).
  void release();
  /// Stops every running job, which ends `error` with `reason` in its log (fencing: this
  /// node lost its lease, so another may take its jobs). Queued jobs stay queued.
  void stopRunning(const std::string& reason);

  /// Takes a queued job back without ending it (its storage record is left as it is), for
  /// a node that lost its lease: another node may run it now. False if it is not queued.
  bool withdraw(const std::string& id);
  /// Workers neither running a job nor promised to a queued one: how many jobs this node
  /// may take from the shared queue now.
  std::size_t idleWorkers() const;

  /// Waits until the job is neither queued nor running. False on timeout.
  bool waitUntilInactive(const std::string& id, std::chrono::milliseconds timeout);

  /// Queued or running, or nullopt when the runner does not hold the job.
  std::optional<RunState> state(const std::string& id) const;

  /// Stops taking jobs and ends queued ones as error; lets running jobs finish for up to
  /// `grace`, then cancels them (containers removed, status error); joins all threads.
  void shutdown(std::chrono::milliseconds grace = std::chrono::milliseconds(0));

  std::size_t queued() const;
  std::size_t running() const;
  unsigned workers() const { return options_.workers; }

 private:
  using Clock = std::chrono::steady_clock;
  struct Active {
    std::stop_source stop;
    std::optional<StopReason> stopped;  // set once, by the first stop decided
    // The running attempt of the current step: stopped by its own timeout or with the job.
    std::stop_source attempt;
    std::unique_ptr<std::stop_callback<std::function<void()>>> attempt_follows_job;
    std::optional<std::string> attempt_timed_out;
    double step_timeout = 0;
    Clock::time_point step_deadline = Clock::time_point::max();
    double job_deadline_seconds = 0;
    Clock::time_point job_deadline = Clock::time_point::max();
  };

  class ActiveJobControl;  // JobControl for one running job, backed by running_

  void workerLoop();
  void watchdogLoop();
  // Both require mutex_ held. stopLocked records why and returns the source to stop
  // (empty when already stopping); request_stop() it after releasing the lock.
  std::stop_source stopLocked(Active& active, std::string reason, Status status);
  std::deque<ResolvedJob>::const_iterator findQueuedLocked(const std::string& id) const;
  // Removes a queued job from the queue and hands it back (requires mutex_ held).
  std::optional<ResolvedJob> takeQueuedLocked(const std::string& id);
  void finishJob(const ResolvedJob& job, Status status);

  LogCountingStorage storage_;  // the storage given, counting each running job's log lines
  Metrics metrics_;
  RunnerOptions options_;
  StepExecutor executor_;
  StepPipeline pipeline_;

  mutable std::mutex mutex_;
  std::condition_variable wake_;     // workers and watchdog
  std::condition_variable changed_;  // a job left the queue or finished
  std::deque<ResolvedJob> queue_;
  std::unordered_set<std::string> queued_ids_;  // the ids in queue_, for lookups without a scan
  std::map<std::string, Active> running_;
  bool held_ = false;
  bool stopping_ = false;
  bool stopped_ = false;
  std::vector<std::thread> workers_;
  std::thread watchdog_;
};

}  // namespace dray::core

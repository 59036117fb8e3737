#pragma once

#include <condition_variable>
#include <deque>
#include <map>
#include <mutex>
#include <stop_token>
#include <thread>
#include <vector>

#include "dray/sdk/runtime.hpp"
#include "dray/sdk/storage.hpp"
#include "job_resolver.hpp"
#include "step_executor.hpp"

namespace dray::core {

/// Runs jobs on a fixed pool of worker threads: jobs run concurrently, the steps of one
/// job strictly in order. Status and steps completed go to storage as they change.
class JobRunner {
 public:
  JobRunner(sdk::Storage& storage, sdk::Runtime& runtime, unsigned workers, std::size_t spool_memory);
  ~JobRunner();

  JobRunner(const JobRunner&) = delete;
  JobRunner& operator=(const JobRunner&) = delete;

  /// Queues a job. Throws std::runtime_error after shutdown() began.
  void submit(ResolvedJob job);

  /// Asks a running job to stop (its container is killed and removed). False if not running.
  bool cancel(const std::string& id);

  /// Stops taking jobs, cancels running ones, ends queued ones as error, joins the workers.
  void shutdown();

  std::size_t queued() const;
  std::size_t running() const;

 private:
  void workerLoop();
  void execute(const ResolvedJob& job, std::stop_token stop);
  void finishJob(const std::string& id, const char* status);

  sdk::Storage& storage_;
  StepExecutor executor_;
  std::size_t spool_memory_;

  mutable std::mutex mutex_;
  std::condition_variable wake_;
  std::deque<ResolvedJob> queue_;
  std::map<std::string, std::stop_source> running_;
  bool stopping_ = false;
  std::vector<std::thread> workers_;
};

}  // namespace dray::core

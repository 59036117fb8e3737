#pragma once

#include <optional>
#include <string>
#include <vector>

#include "core/channel_set.hpp"
#include "core/image_policy.hpp"
#include "core/job_runner.hpp"
#include "core/orphan_reconciler.hpp"
#include "core/queue_worker.hpp"
#include "core/webhook_policy.hpp"
#include "dray/sdk/storage.hpp"

namespace dray::core {

/// A job just accepted: its id and the JSON body POST /jobs answers with.
struct CreatedJob {
  std::string id;
  std::string body;
};

/// What the REST layer calls: accept, look up, read logs of and delete jobs.
/// Thread-safe (storage and runner are).
/// Settings the service applies to every job.
struct ServiceOptions {
  std::string instance = "dray";    ///< recorded as the job's owner
  double default_step_timeout = 0;  ///< seconds; 0 = none
  ImagePolicy image_policy;         ///< DRAY_ALLOWED_IMAGES; the default allows every image
  StepLimits step_limits;           ///< DRAY_STEP_*: resource defaults and ceilings
  WebhookPolicy webhook_policy;     ///< where a job's `callback` may go (DRAY_WEBHOOK_ALLOWED_HOSTS)
  /// How long a storage write reported as failed may still land (Redis: its patience).
  std::chrono::milliseconds write_settle_time{std::chrono::seconds(10)};
  std::size_t max_shared_queue = 1000;  ///< DRAY_QUEUE for the nodes' shared queue: more waiting get 429
};

/// The job as the API shows it: the record plus where the runner has it.
struct JobView {
  sdk::JobRecord record;
  std::string state;  ///< queued, running, complete, error or canceled
};

/// What cancel() did.
enum class CancelOutcome { kUnknownJob, kAlreadyFinished, kCanceled };

class JobService {
 public:
  JobService(sdk::Storage& storage, JobRunner& runner, const ChannelSet& channels, ServiceOptions options = {});

  /// Validates, stores and queues a job. Throws ValidationError for bad input and
  /// QueueFull when too many jobs wait (nothing is stored then). `creator` names the API
  /// token that submitted it (empty without authentication).
  CreatedJob create(const std::string& body, const std::string& creator = "");

  std::optional<JobView> find(const std::string& id);
  std::vector<std::string> list() { return storage_.listJobs(); }

  /// At most `max_lines` log lines from `from`, or nullopt if the job is unknown.
  std::optional<std::vector<std::string>> log(const std::string& id, std::size_t from, std::size_t max_lines);
  /// The same without telling an unknown job from an empty page (no second storage read):
  /// for callers that look the job up anyway.
  std::vector<std::string> logPage(const std::string& id, std::size_t from, std::size_t max_lines) {
    return storage_.readLog(id, from, max_lines);
  }

  /// The job's final output, or nullopt when none was kept.
  std::optional<std::string> output(const std::string& id) { return storage_.readOutput(id); }

  /// Stops a queued or running job; its status becomes `canceled`.
  CancelOutcome cancel(const std::string& id);

  /// Deletes a job's records. A job still queued or running is canceled first (its
  /// container removed), unlike the original, which left it running. False if unknown.
  bool remove(const std::string& id);

  /// A new upper-case 8-4-4-4-12 hex id.
  static std::string newJobId();

  /// A stored job made runnable on this node (its channels and policies): for jobs taken
  /// from the shared queue. Throws ValidationError.
  ResolvedJob resolveStored(const sdk::JobRecord& record) const;

  /// With several nodes on one storage: jobs go to the shared queue (unless they carry
  /// secrets, which stay on the node that accepted them), and cancel reaches them wherever
  /// they are. Must outlive the service's use.
  void useQueue(QueueWorker* queue) { queue_ = queue; }

 private:
  sdk::Storage& storage_;
  JobRunner& runner_;
  const ChannelSet& channels_;
  ServiceOptions options_;
  OrphanReconciler orphans_;  // settles creates whose outcome storage did not confirm
  QueueWorker* queue_ = nullptr;
};

}  // namespace dray::core

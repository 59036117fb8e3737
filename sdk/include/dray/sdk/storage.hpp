/// Storage: where jobs, their status and their log live.
#pragma once

#include <cstddef>
#include <functional>
#include <initializer_list>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "dray/sdk/nodes.hpp"
#include "dray/sdk/plugin.hpp"
#include "dray/sdk/types.hpp"
#include "dray/sdk/work_queue.hpp"

namespace dray::sdk {

/// What changed about a job, for a change watcher (see Storage::watchChanges).
enum class JobChange {
  kRecord,   ///< the record: status, steps, times, counters, output (or the job was created)
  kLog,      ///< lines were appended to the log
  kRemoved,  ///< the job was deleted
  kResync,   ///< notices may have been lost (e.g. a reconnect): re-read every job watched; id is ""
};

/// Told about a change once it is readable through the storage's reads. Called on a
/// storage thread: must return quickly, must not throw and must not call the storage.
using ChangeWatcher = std::function<void(const std::string& id, JobChange change)>;

/// Keeps job records and logs. Every method may be called concurrently from API threads
/// and worker threads. Failures throw StorageError. Updates to an id that does not exist
/// (e.g. deleted while running) are ignored, never recreate the job.
class DRAY_SDK_API Storage : public Plugin {
 public:
  /// Stores a new job; `job.id` is unique. With a shared queue (queue() not null), a job
  /// with an empty `owner` also enters the queue, in the same atomic step: it is never
  /// stored without its entry, nor queued without its record.
  virtual void createJob(const JobRecord& job) = 0;

  /// The job, or nullopt if unknown.
  virtual std::optional<JobRecord> getJob(const std::string& id) = 0;

  /// All job ids, oldest first.
  virtual std::vector<std::string> listJobs() = 0;

  /// Removes the job, its status and its log. False if it did not exist.
  virtual bool deleteJob(const std::string& id) = 0;

  virtual void setStatus(const std::string& id, const std::string& status) = 0;
  virtual void setCompletedSteps(const std::string& id, std::size_t completed) = 0;

  /// Sets the job's start and/or end time; an empty argument leaves that time unchanged.
  virtual void setTimes(const std::string& id, const std::string& started_at, const std::string& finished_at) = 0;

  /// Sets how long the job took: seconds as a decimal number ("2.514"), the fork's `finishedIn`.
  virtual void setFinishedIn(const std::string& id, const std::string& seconds) = 0;

  /// Replaces the record of step `index` (0-based, < total_steps). A record whose state is
  /// `running` marks the start of (an attempt of) that step.
  virtual void setStep(const std::string& id, std::size_t index, const StepRecord& step) = 0;

  /// Appends lines to the job log, keeping their order. The views are valid only during
  /// the call: copy what is kept. A batch may be buffered, but must be readable after
  /// flush() and soon (well under a second) without it. Lines may hold any bytes.
  virtual void appendLog(const std::string& id, std::span<const std::string_view> lines) = 0;

  /// appendLog for a braced list of lines. Implementations add
  /// `using sdk::Storage::appendLog;` so it stays visible next to their override.
  void appendLog(const std::string& id, std::initializer_list<std::string_view> lines) {
    appendLog(id, std::span<const std::string_view>(lines.begin(), lines.size()));
  }

  /// At most `max_lines` log lines from position `from` (0-based); empty when past the end.
  virtual std::vector<std::string> readLog(const std::string& id, std::size_t from, std::size_t max_lines) = 0;

  /// Keeps the job's final output (the last step's captured bytes, bounded by the host's
  /// DRAY_OUTPUT_LIMIT), replacing any earlier one.
  virtual void setOutput(const std::string& id, std::string_view bytes) = 0;

  /// The job's final output, or nullopt when none was kept.
  virtual std::optional<std::string> readOutput(const std::string& id) = 0;

  /// Records what became of the job's `callback` webhook (JobRecord::callback).
  virtual void setCallback(const std::string& id, const CallbackRecord& callback) = 0;
  /// The webhook outbox: keeps (replaces) a delivery not done yet. Default: not kept, so a
  /// restart loses it (right for a storage that a restart empties anyway).
  virtual void saveDelivery(const PendingDelivery& delivery) { (void)delivery; }
  /// Forgets a delivery that is done (delivered, refused, or given up).
  virtual void removeDelivery(const std::string& delivery_id) { (void)delivery_id; }
  /// The deliveries `owner` left not done.
  virtual std::vector<PendingDelivery> pendingDeliveries(const std::string& owner) {
    (void)owner;
    return {};
  }
  /// Makes every appended line durable and readable. Default: nothing to do.
  virtual void flush() {}
  /// Node leases, for a storage several dray processes share; null (the default) for one
  /// that belongs to one process (memory), which is then the only node.
  virtual NodeRegistry* nodes() { return nullptr; }
  /// The queue shared by the nodes on this storage; null (the default) for a storage of one
  /// process, whose jobs wait in that process.
  virtual WorkQueue* queue() { return nullptr; }

  /// Registers the watcher (replacing any earlier one) told about every change of every job
  /// made through this storage, and, for a shared backend, through other hosts' storages
  /// too. Notices may be merged or repeated, never reordered against the reads: after a
  /// notice, reads show at least that change. Returns false when the backend cannot tell
  /// (the default): the host then polls.
  virtual bool watchChanges(ChangeWatcher watcher) {
    (void)watcher;
    return false;
  }
  /// A cheap reachability check (e.g. PING). Must not throw.
  virtual HealthReport checkHealth() { return {true, "no check"}; }
};

}  // namespace dray::sdk

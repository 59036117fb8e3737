#pragma once

#include <atomic>
#include <chrono>
#include <deque>
#include <functional>
#include <map>
#include <optional>
#include <set>
#include <shared_mutex>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "dray/sdk/storage.hpp"
#include "plugins/storage/common/change_notifier.hpp"
#include "plugins/storage/common/retention.hpp"

namespace dray::plugins::storage::memory {

/// Default for the `memory-limit` option (DRAY_MEMORY_LIMIT): 256 MiB.
inline constexpr std::size_t kDefaultMemoryLimit = 256u << 20;
/// Default for the `max-jobs` option (DRAY_MAX_JOBS): finished jobs kept.
inline constexpr std::size_t kDefaultMaxJobs = 10000;

struct MemoryStorageOptions {
  std::size_t limit = kDefaultMemoryLimit;  ///< DRAY_MEMORY_LIMIT: bytes of records, logs and outputs
  std::size_t max_jobs = kDefaultMaxJobs;   ///< DRAY_MAX_JOBS: finished jobs kept, 0 for no bound
  Retention retention;                      ///< DRAY_KEY_TTL, DRAY_REMOVE_DONE
  std::function<std::chrono::steady_clock::time_point()> now = std::chrono::steady_clock::now;  ///< tests move it
};

/// Keeps everything in process memory: the embedded default and the storage fake for
/// tests. Lost on restart. One reader/writer lock guards all jobs; appends hold it only
/// for the copy of a batch.
///
/// All records, log lines and outputs together may take `limit` bytes, as estimated by
/// memory_accounting.hpp. When a job or a line would not fit, the logs of the oldest
/// finished jobs are replaced by one notice line until it does; when no finished log is
/// left, createJob throws sdk::StorageError and a running job's lines are dropped after one
/// notice line.
///
/// Whole jobs go when more than `max_jobs` have finished (the one that finished first goes
/// first), when `key_ttl` passed since a job's last write (checked on every call, no thread),
/// or on DELETE. With `remove_done`, a job that ended is no longer listed but still read.
class MemoryStorage final : public sdk::Storage {
 public:
  explicit MemoryStorage(std::size_t limit = kDefaultMemoryLimit) : MemoryStorage(withLimit(limit)) {}
  explicit MemoryStorage(MemoryStorageOptions options);

  void createJob(const sdk::JobRecord& job) override;
  std::optional<sdk::JobRecord> getJob(const std::string& id) override;
  std::vector<std::string> listJobs() override;
  bool deleteJob(const std::string& id) override;
  void setStatus(const std::string& id, const std::string& status) override;
  void setCompletedSteps(const std::string& id, std::size_t completed) override;
  void setTimes(const std::string& id, const std::string& started_at, const std::string& finished_at) override;
  void setFinishedIn(const std::string& id, const std::string& seconds) override;
  void setCallback(const std::string& id, const sdk::CallbackRecord& callback) override;
  void setStep(const std::string& id, std::size_t index, const sdk::StepRecord& step) override;
  void setOutput(const std::string& id, std::string_view bytes) override;
  std::optional<std::string> readOutput(const std::string& id) override;
  using sdk::Storage::appendLog;
  void appendLog(const std::string& id, std::span<const std::string_view> lines) override;
  std::vector<std::string> readLog(const std::string& id, std::size_t from, std::size_t max_lines) override;
  sdk::HealthReport checkHealth() override { return {true, "in process memory"}; }
  bool watchChanges(sdk::ChangeWatcher watcher) override {
    notifier_.set(std::move(watcher));
    return true;
  }

  /// Bytes counted against the limit now.
  std::size_t used();
  /// Jobs held now, listed or not.
  std::size_t size();

 private:
  using Clock = std::chrono::steady_clock;

  static MemoryStorageOptions withLimit(std::size_t limit) {
    MemoryStorageOptions options;
    options.limit = limit;
    return options;
  }

  struct Entry {
    sdk::JobRecord record;
    std::deque<std::string> log;  // a deque: growing never needs twice the memory, as a vector would
    std::uint64_t sequence;       // creation order for listJobs and for dropping logs
    std::size_t record_cost = 0;
    std::size_t log_cost = 0;  // the log and the output together
    std::optional<std::string> output{};
    bool log_dropped = false;         // holds only the "log dropped" notice
    bool lines_refused = false;       // its "lines dropped" notice is written
    bool listed = true;               // false once it ended with remove_done
    std::uint64_t finish_number = 0;  // its place in finish_order_, 0 while it runs
    Clock::time_point last_write{};   // kept only with a key TTL
  };
  using Jobs = std::unordered_map<std::string, Entry>;

  // Runs `change` on the job's entry under the lock, after dropping expired jobs, and
  // counts it as a write for the key TTL; then tells the watcher `what` changed. Nothing
  // when the job does not exist.
  template <typename Change>
  void update(const std::string& id, sdk::JobChange what, Change&& change);

  void storeNew(const sdk::JobRecord& job);

  // Require mutex_ held (unique).
  void touchLocked(Entry& entry, Clock::time_point now);
  void noteNextExpiryLocked();
  void eraseLocked(Jobs::iterator it);
  void expireLocked(Clock::time_point now);
  void noteStatusLocked(Entry& entry);
  bool makeRoomLocked(std::size_t cost, const Entry* keep);
  void dropLogLocked(Entry& entry);
  void appendNoticeLocked(Entry& entry, std::string_view notice);

  // Before a read: drops expired jobs (takes the lock itself, and only when one is due).
  void expireBeforeRead();

  MemoryStorageOptions options_;
  ChangeNotifier notifier_;
  bool expiring_;  // a key TTL is set
  std::shared_mutex mutex_;
  Jobs jobs_;
  std::map<std::uint64_t, std::string> order_;           // every job by sequence
  std::set<std::uint64_t> finished_;                     // finished jobs whose log may still be dropped, oldest first
  std::map<std::uint64_t, std::uint64_t> finish_order_;  // finish number -> sequence, for max_jobs
  std::set<std::pair<Clock::time_point, std::uint64_t>> by_last_write_;  // with a key TTL: oldest write first
  std::atomic<Clock::rep> next_expiry_;  // when the next job expires (time_since_epoch), read without the lock
  std::uint64_t next_sequence_ = 0;
  std::uint64_t next_finish_number_ = 1;
  std::size_t used_ = 0;
};

}  // namespace dray::plugins::storage::memory

#pragma once

#include <deque>
#include <map>
#include <set>
#include <shared_mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include "dray/sdk/storage.hpp"

namespace dray::plugins::storage::memory {

/// Default for the `memory-limit` option (DRAY_MEMORY_LIMIT): 256 MiB.
inline constexpr std::size_t kDefaultMemoryLimit = 256u << 20;

/// Keeps everything in process memory: the embedded default and the storage fake for
/// tests. Lost on restart. One reader/writer lock guards all jobs; appends hold it only
/// for the copy of a batch.
///
/// All records and log lines together may take `limit` bytes, as estimated by
/// memory_accounting.hpp. When a job or a line would not fit, the logs of the oldest
/// finished jobs are replaced by one notice line until it does; when no finished log is
/// left, createJob throws sdk::StorageError and a running job's lines are dropped after one
/// notice line. Records are never dropped: DELETE /jobs/{id} frees them.
class MemoryStorage final : public sdk::Storage {
 public:
  explicit MemoryStorage(std::size_t limit = kDefaultMemoryLimit) : limit_(limit) {}

  void createJob(const sdk::JobRecord& job) override;
  std::optional<sdk::JobRecord> getJob(const std::string& id) override;
  std::vector<std::string> listJobs() override;
  bool deleteJob(const std::string& id) override;
  void setStatus(const std::string& id, const std::string& status) override;
  void setCompletedSteps(const std::string& id, std::size_t completed) override;
  void setTimes(const std::string& id, const std::string& started_at, const std::string& finished_at) override;
  void setStep(const std::string& id, std::size_t index, const sdk::StepRecord& step) override;
  using sdk::Storage::appendLog;
  void appendLog(const std::string& id, std::span<const std::string_view> lines) override;
  std::vector<std::string> readLog(const std::string& id, std::size_t from, std::size_t max_lines) override;
  sdk::HealthReport checkHealth() override { return {true, "in process memory"}; }

  /// Bytes counted against the limit now.
  std::size_t used();

 private:
  struct Entry {
    sdk::JobRecord record;
    std::deque<std::string> log;  // a deque: growing never needs twice the memory, as a vector would
    std::uint64_t sequence;       // creation order for listJobs and for dropping logs
    std::size_t record_cost = 0;
    std::size_t log_cost = 0;
    bool log_dropped = false;    // holds only the "log dropped" notice
    bool lines_refused = false;  // its "lines dropped" notice is written
  };

  // All require mutex_ held (unique).
  bool makeRoomLocked(std::size_t cost, const Entry* keep);
  void dropLogLocked(Entry& entry);
  void appendNoticeLocked(Entry& entry, std::string_view notice);
  void noteStatusLocked(Entry& entry);

  std::shared_mutex mutex_;
  std::unordered_map<std::string, Entry> jobs_;
  std::map<std::uint64_t, std::string> order_;
  std::set<std::uint64_t> finished_;  // finished jobs whose log may still be dropped, oldest first
  std::uint64_t next_sequence_ = 0;
  std::size_t limit_;
  std::size_t used_ = 0;
};

}  // namespace dray::plugins::storage::memory

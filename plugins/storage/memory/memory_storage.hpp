#pragma once

#include <map>
#include <shared_mutex>
#include <unordered_map>
#include <vector>

#include "dray/sdk/storage.hpp"

namespace dray::plugins::storage::memory {

/// Keeps everything in process memory: the embedded default and the storage fake for
/// tests. Lost on restart. One reader/writer lock guards all jobs; appends hold it only
/// for the copy of a batch.
class MemoryStorage final : public sdk::Storage {
 public:
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

 private:
  struct Entry {
    sdk::JobRecord record;
    std::vector<std::string> log;
    std::uint64_t sequence;  // creation order for listJobs
  };

  std::shared_mutex mutex_;
  std::unordered_map<std::string, Entry> jobs_;
  std::map<std::uint64_t, std::string> order_;
  std::uint64_t next_sequence_ = 0;
};

}  // namespace dray::plugins::storage::memory

#pragma once

#include <mutex>
#include <string>
#include <unordered_map>

#include "dray/sdk/storage.hpp"

namespace dray::core {

/// Storage as the runner uses it: everything goes to the real storage, and the lines each
/// job appends are counted, so a step's record can say where its start and end fall among
/// the log lines (StepRecord::log_from/log_until; live events order by them). Counts start
/// at 0 when a job is first seen and are dropped by forget(). Thread-safe.
class LogCountingStorage final : public sdk::Storage {
 public:
  explicit LogCountingStorage(sdk::Storage& storage) : storage_(storage) {}

  /// Lines appended to the job's log through this storage so far.
  std::size_t linesLogged(const std::string& id) const {
    std::lock_guard lock(mutex_);
    auto it = lines_.find(id);
    return it == lines_.end() ? 0 : it->second;
  }
  /// Stops counting the job (it ended).
  void forget(const std::string& id) {
    std::lock_guard lock(mutex_);
    lines_.erase(id);
  }

  using sdk::Storage::appendLog;
  void appendLog(const std::string& id, std::span<const std::string_view> lines) override {
    storage_.appendLog(id, lines);
    std::lock_guard lock(mutex_);
    lines_[id] += lines.size();
  }

  void createJob(const sdk::JobRecord& job) override { storage_.createJob(job); }
  std::optional<sdk::JobRecord> getJob(const std::string& id) override { return storage_.getJob(id); }
  std::vector<std::string> listJobs() override { return storage_.listJobs(); }
  bool deleteJob(const std::string& id) override { return storage_.deleteJob(id); }
  void setStatus(const std::string& id, const std::string& status) override { storage_.setStatus(id, status); }
  void setCompletedSteps(const std::string& id, std::size_t completed) override {
    storage_.setCompletedSteps(id, completed);
  }
  void setTimes(const std::string& id, const std::string& started_at, const std::string& finished_at) override {
    storage_.setTimes(id, started_at, finished_at);
  }
  void setFinishedIn(const std::string& id, const std::string& seconds) override {
    storage_.setFinishedIn(id, seconds);
  }
  void setStep(const std::string& id, std::size_t index, const sdk::StepRecord& step) override {
    storage_.setStep(id, index, step);
  }
  void setCallback(const std::string& id, const sdk::CallbackRecord& callback) override {
    storage_.setCallback(id, callback);
  }
  void saveDelivery(const sdk::PendingDelivery& delivery) override { storage_.saveDelivery(delivery); }
  void removeDelivery(const std::string& delivery_id) override { storage_.removeDelivery(delivery_id); }
  std::vector<sdk::PendingDelivery> pendingDeliveries(const std::string& owner) override {
    return storage_.pendingDeliveries(owner);
  }
  std::vector<std::string> readLog(const std::string& id, std::size_t from, std::size_t max_lines) override {
    return storage_.readLog(id, from, max_lines);
  }
  void setOutput(const std::string& id, std::string_view bytes) override { storage_.setOutput(id, bytes); }
  std::optional<std::string> readOutput(const std::string& id) override { return storage_.readOutput(id); }
  void flush() override { storage_.flush(); }
  sdk::HealthReport checkHealth() override { return storage_.checkHealth(); }
  bool watchChanges(sdk::ChangeWatcher watcher) override { return storage_.watchChanges(std::move(watcher)); }

 private:
  sdk::Storage& storage_;
  mutable std::mutex mutex_;
  std::unordered_map<std::string, std::size_t> lines_;
};

}  // namespace dray::core

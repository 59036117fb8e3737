#include "memory_storage.hpp"

#include <algorithm>
#include <mutex>

#include "dray/sdk/errors.hpp"

namespace dray::plugins::storage::memory {

void MemoryStorage::createJob(const sdk::JobRecord& job) {
  std::unique_lock lock(mutex_);
  auto [it, inserted] = jobs_.try_emplace(job.id, Entry{job, {}, next_sequence_});
  if (!inserted) throw sdk::StorageError("job " + job.id + " already exists");
  order_.emplace(next_sequence_++, job.id);
}

std::optional<sdk::JobRecord> MemoryStorage::getJob(const std::string& id) {
  std::shared_lock lock(mutex_);
  auto it = jobs_.find(id);
  if (it == jobs_.end()) return std::nullopt;
  return it->second.record;
}

std::vector<std::string> MemoryStorage::listJobs() {
  std::shared_lock lock(mutex_);
  std::vector<std::string> ids;
  ids.reserve(order_.size());
  for (const auto& [sequence, id] : order_) ids.push_back(id);
  return ids;
}

bool MemoryStorage::deleteJob(const std::string& id) {
  std::unique_lock lock(mutex_);
  auto it = jobs_.find(id);
  if (it == jobs_.end()) return false;
  order_.erase(it->second.sequence);
  jobs_.erase(it);
  return true;
}

void MemoryStorage::setStatus(const std::string& id, const std::string& status) {
  std::unique_lock lock(mutex_);
  if (auto it = jobs_.find(id); it != jobs_.end()) it->second.record.status = status;
}

void MemoryStorage::setCompletedSteps(const std::string& id, std::size_t completed) {
  std::unique_lock lock(mutex_);
  if (auto it = jobs_.find(id); it != jobs_.end()) it->second.record.completed_steps = completed;
}

void MemoryStorage::setTimes(const std::string& id, const std::string& started_at, const std::string& finished_at) {
  std::unique_lock lock(mutex_);
  if (auto it = jobs_.find(id); it != jobs_.end()) {
    if (!started_at.empty()) it->second.record.started_at = started_at;
    if (!finished_at.empty()) it->second.record.finished_at = finished_at;
  }
}

void MemoryStorage::setStep(const std::string& id, std::size_t index, const sdk::StepRecord& step) {
  std::unique_lock lock(mutex_);
  auto it = jobs_.find(id);
  if (it == jobs_.end()) return;
  auto& steps = it->second.record.steps;
  if (steps.size() <= index) steps.resize(index + 1);
  steps[index] = step;
}

void MemoryStorage::appendLog(const std::string& id, std::span<const std::string_view> lines) {
  std::unique_lock lock(mutex_);
  if (auto it = jobs_.find(id); it != jobs_.end()) {
    auto& log = it->second.log;
    for (std::string_view line : lines) log.emplace_back(line);
  }
}

std::vector<std::string> MemoryStorage::readLog(const std::string& id, std::size_t from, std::size_t max_lines) {
  std::shared_lock lock(mutex_);
  auto it = jobs_.find(id);
  if (it == jobs_.end() || from >= it->second.log.size()) return {};
  const auto& log = it->second.log;
  std::size_t to = from + std::min(max_lines, log.size() - from);
  return {log.begin() + static_cast<std::ptrdiff_t>(from), log.begin() + static_cast<std::ptrdiff_t>(to)};
}

}  // namespace dray::plugins::storage::memory

#include "plugins/storage/memory/memory_storage.hpp"

#include <algorithm>
#include <mutex>

#include "dray/sdk/errors.hpp"
#include "plugins/storage/memory/memory_accounting.hpp"

namespace dray::plugins::storage::memory {
namespace {

constexpr std::string_view kLogDropped = "dray: log dropped: dray's memory limit (DRAY_MEMORY_LIMIT) was reached";
constexpr std::string_view kLinesDropped =
    "dray: log lines dropped: dray's memory limit (DRAY_MEMORY_LIMIT) was reached and no finished job's log was "
    "left to drop";

bool isFinished(const sdk::JobRecord& record) { return record.status != sdk::kStatusRunning; }

}  // namespace

void MemoryStorage::createJob(const sdk::JobRecord& job) {
  std::unique_lock lock(mutex_);
  if (jobs_.count(job.id)) throw sdk::StorageError("job " + job.id + " already exists");
  const std::size_t cost = recordCost(job);
  if (!makeRoomLocked(cost, nullptr)) {
    throw sdk::StorageError("dray's memory limit (DRAY_MEMORY_LIMIT=" + std::to_string(limit_) +
                            " bytes) is reached and no finished job's log is left to drop; "
                            "try again when jobs finish, or delete jobs");
  }
  Entry& entry = jobs_.try_emplace(job.id, Entry{job, {}, next_sequence_}).first->second;
  entry.record_cost = cost;
  used_ += cost;
  order_.emplace(next_sequence_++, job.id);
  noteStatusLocked(entry);
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
  used_ -= it->second.record_cost + it->second.log_cost;
  order_.erase(it->second.sequence);
  finished_.erase(it->second.sequence);
  jobs_.erase(it);
  return true;
}

void MemoryStorage::setStatus(const std::string& id, const std::string& status) {
  std::unique_lock lock(mutex_);
  if (auto it = jobs_.find(id); it != jobs_.end()) {
    it->second.record.status = status;
    noteStatusLocked(it->second);
  }
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
  auto it = jobs_.find(id);
  if (it == jobs_.end()) return;
  Entry& entry = it->second;
  for (std::string_view line : lines) {
    const std::size_t cost = lineCost(line);
    if (!makeRoomLocked(cost, &entry)) {
      // The rest of the batch goes too; later batches are tried again, as jobs may finish.
      if (!entry.lines_refused) appendNoticeLocked(entry, kLinesDropped);
      entry.lines_refused = true;
      return;
    }
    entry.log.emplace_back(line);
    entry.log_cost += cost;
    used_ += cost;
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

std::size_t MemoryStorage::used() {
  std::shared_lock lock(mutex_);
  return used_;
}

bool MemoryStorage::makeRoomLocked(std::size_t cost, const Entry* keep) {
  // Oldest finished first: their owners had the most time to read them.
  auto next = finished_.begin();
  while (used_ + cost > limit_ && next != finished_.end()) {
    Entry& victim = jobs_.at(order_.at(*next));
    if (&victim == keep) {
      ++next;
      continue;
    }
    next = finished_.erase(next);
    // A log no bigger than the notice that would replace it frees nothing: keep it.
    if (victim.log_cost > lineCost(kLogDropped)) dropLogLocked(victim);
  }
  return used_ + cost <= limit_;
}

void MemoryStorage::dropLogLocked(Entry& entry) {
  used_ -= entry.log_cost;
  entry.log_cost = 0;
  entry.log = {};  // a new deque: clear() may keep a block
  entry.log_dropped = true;
  appendNoticeLocked(entry, kLogDropped);
}

// Notices are let over the limit: at most two per job, and they explain what is missing.
void MemoryStorage::appendNoticeLocked(Entry& entry, std::string_view notice) {
  entry.log.emplace_back(notice);
  entry.log_cost += lineCost(notice);
  used_ += lineCost(notice);
}

void MemoryStorage::noteStatusLocked(Entry& entry) {
  if (isFinished(entry.record) && !entry.log_dropped) {
    finished_.insert(entry.sequence);
  } else {
    finished_.erase(entry.sequence);
  }
}

}  // namespace dray::plugins::storage::memory

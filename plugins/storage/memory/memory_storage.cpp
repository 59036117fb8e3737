#include "plugins/storage/memory/memory_storage.hpp"

#include <algorithm>
#include <limits>
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

MemoryStorage::MemoryStorage(MemoryStorageOptions options)
    : options_(std::move(options)), expiring_(options_.retention.key_ttl.count() > 0),
      next_expiry_(std::numeric_limits<Clock::rep>::max()) {}

template <typename Change>
void MemoryStorage::update(const std::string& id, sdk::JobChange what, Change&& change) {
  {
    std::unique_lock lock(mutex_);
    const Clock::time_point now = expiring_ ? options_.now() : Clock::time_point{};
    if (expiring_) expireLocked(now);
    auto it = jobs_.find(id);
    if (it == jobs_.end()) return;
    touchLocked(it->second, now);
    change(it->second);
  }
  notifier_.notify(id, what);
}

void MemoryStorage::createJob(const sdk::JobRecord& job) {
  storeNew(job);
  notifier_.notify(job.id, sdk::JobChange::kRecord);
}

void MemoryStorage::storeNew(const sdk::JobRecord& job) {
  std::unique_lock lock(mutex_);
  const Clock::time_point now = expiring_ ? options_.now() : Clock::time_point{};
  if (expiring_) expireLocked(now);
  if (jobs_.count(job.id)) throw sdk::StorageError("job " + job.id + " already exists");
  const std::size_t cost = recordCost(job);
  if (!makeRoomLocked(cost, nullptr)) {
    throw sdk::StorageError("dray's memory limit (DRAY_MEMORY_LIMIT=" + std::to_string(options_.limit) +
                            " bytes) is reached and no finished job's log is left to drop; "
                            "try again when jobs finish, or delete jobs");
  }
  Entry& entry = jobs_.try_emplace(job.id, Entry{job, {}, next_sequence_}).first->second;
  entry.record_cost = cost;
  used_ += cost;
  order_.emplace(next_sequence_++, job.id);
  touchLocked(entry, now);
  noteStatusLocked(entry);
}

std::optional<sdk::JobRecord> MemoryStorage::getJob(const std::string& id) {
  expireBeforeRead();
  std::shared_lock lock(mutex_);
  auto it = jobs_.find(id);
  if (it == jobs_.end()) return std::nullopt;
  return it->second.record;
}

std::vector<std::string> MemoryStorage::listJobs() {
  expireBeforeRead();
  std::shared_lock lock(mutex_);
  std::vector<std::string> ids;
  ids.reserve(order_.size());
  for (const auto& [sequence, id] : order_) {
    if (!options_.retention.remove_done || jobs_.at(id).listed) ids.push_back(id);
  }
  return ids;
}

bool MemoryStorage::deleteJob(const std::string& id) {
  std::unique_lock lock(mutex_);
  if (expiring_) expireLocked(options_.now());
  auto it = jobs_.find(id);
  if (it == jobs_.end()) return false;
  eraseLocked(it);
  lock.unlock();
  notifier_.notify(id, sdk::JobChange::kRemoved);
  return true;
}

void MemoryStorage::setStatus(const std::string& id, const std::string& status) {
  update(id, sdk::JobChange::kRecord, [&](Entry& entry) {
    entry.record.status = status;
    noteStatusLocked(entry);
  });
}

void MemoryStorage::setCompletedSteps(const std::string& id, std::size_t completed) {
  update(id, sdk::JobChange::kRecord, [&](Entry& entry) { entry.record.completed_steps = completed; });
}

void MemoryStorage::setTimes(const std::string& id, const std::string& started_at, const std::string& finished_at) {
  update(id, sdk::JobChange::kRecord, [&](Entry& entry) {
    if (!started_at.empty()) entry.record.started_at = started_at;
    if (!finished_at.empty()) entry.record.finished_at = finished_at;
  });
}

void MemoryStorage::setFinishedIn(const std::string& id, const std::string& seconds) {
  update(id, sdk::JobChange::kRecord, [&](Entry& entry) { entry.record.finished_in = seconds; });
}

void MemoryStorage::setCallback(const std::string& id, const sdk::CallbackRecord& callback) {
  update(id, sdk::JobChange::kRecord, [&](Entry& entry) { entry.record.callback = callback; });
}

void MemoryStorage::setOutput(const std::string& id, std::string_view bytes) {
  update(id, sdk::JobChange::kRecord, [&](Entry& entry) {
    const std::size_t old_cost = entry.output ? entry.output->size() : 0;
    entry.log_cost -= old_cost;
    used_ -= old_cost;
    entry.output.reset();
    // The output counts against DRAY_MEMORY_LIMIT like the log; older finished logs make room.
    if (!makeRoomLocked(bytes.size(), &entry)) {
      throw sdk::StorageError("job " + id + ": the output (" + std::to_string(bytes.size()) +
                              " bytes) does not fit in the memory limit");
    }
    entry.output.emplace(bytes);
    entry.log_cost += bytes.size();
    used_ += bytes.size();
  });
}

std::optional<std::string> MemoryStorage::readOutput(const std::string& id) {
  expireBeforeRead();
  std::shared_lock lock(mutex_);
  auto it = jobs_.find(id);
  if (it == jobs_.end()) return std::nullopt;
  return it->second.output;
}

void MemoryStorage::setStep(const std::string& id, std::size_t index, const sdk::StepRecord& step) {
  update(id, sdk::JobChange::kRecord, [&](Entry& entry) {
    auto& steps = entry.record.steps;
    if (steps.size() <= index) steps.resize(index + 1);
    steps[index] = step;
  });
}

void MemoryStorage::appendLog(const std::string& id, std::span<const std::string_view> lines) {
  update(id, sdk::JobChange::kLog, [&](Entry& entry) {
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
  });
}

std::vector<std::string> MemoryStorage::readLog(const std::string& id, std::size_t from, std::size_t max_lines) {
  expireBeforeRead();
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

std::size_t MemoryStorage::size() {
  expireBeforeRead();
  std::shared_lock lock(mutex_);
  return jobs_.size();
}

void MemoryStorage::touchLocked(Entry& entry, Clock::time_point now) {
  if (!expiring_) return;
  by_last_write_.erase({entry.last_write, entry.sequence});
  entry.last_write = now;
  by_last_write_.emplace_hint(by_last_write_.end(), now, entry.sequence);  // usually the newest
  noteNextExpiryLocked();
}

void MemoryStorage::noteNextExpiryLocked() {
  next_expiry_.store(by_last_write_.empty()
                         ? std::numeric_limits<Clock::rep>::max()
                         : (by_last_write_.begin()->first + options_.retention.key_ttl).time_since_epoch().count(),
                     std::memory_order_relaxed);
}

void MemoryStorage::eraseLocked(Jobs::iterator it) {
  Entry& entry = it->second;
  used_ -= entry.record_cost + entry.log_cost;
  order_.erase(entry.sequence);
  finished_.erase(entry.sequence);
  if (entry.finish_number != 0) finish_order_.erase(entry.finish_number);
  if (expiring_) {
    by_last_write_.erase({entry.last_write, entry.sequence});
    noteNextExpiryLocked();
  }
  jobs_.erase(it);
}

void MemoryStorage::expireLocked(Clock::time_point now) {
  // Oldest write first: the first one not yet due ends the sweep.
  while (!by_last_write_.empty() && by_last_write_.begin()->first + options_.retention.key_ttl <= now) {
    eraseLocked(jobs_.find(order_.at(by_last_write_.begin()->second)));
  }
}

void MemoryStorage::expireBeforeRead() {
  if (!expiring_) return;
  const Clock::time_point now = options_.now();
  if (now.time_since_epoch().count() < next_expiry_.load(std::memory_order_relaxed)) return;
  std::unique_lock lock(mutex_);
  expireLocked(now);
}

void MemoryStorage::noteStatusLocked(Entry& entry) {
  const bool finished = isFinished(entry.record);
  if (finished && !entry.log_dropped) {
    finished_.insert(entry.sequence);
  } else {
    finished_.erase(entry.sequence);
  }
  if (options_.retention.remove_done && hasEnded(entry.record.status)) entry.listed = false;
  if (!finished && entry.finish_number != 0) {
    finish_order_.erase(entry.finish_number);
    entry.finish_number = 0;
  } else if (finished && entry.finish_number == 0) {
    entry.finish_number = next_finish_number_++;
    finish_order_.emplace(entry.finish_number, entry.sequence);
    // The job that finished first goes first; this one is the newest, so it stays.
    while (options_.max_jobs > 0 && finish_order_.size() > options_.max_jobs) {
      eraseLocked(jobs_.find(order_.at(finish_order_.begin()->second)));
    }
  }
}

bool MemoryStorage::makeRoomLocked(std::size_t cost, const Entry* keep) {
  // Oldest finished first: their owners had the most time to read them.
  auto next = finished_.begin();
  while (used_ + cost > options_.limit && next != finished_.end()) {
    Entry& victim = jobs_.at(order_.at(*next));
    if (&victim == keep) {
      ++next;
      continue;
    }
    next = finished_.erase(next);
    // A log no bigger than the notice that would replace it frees nothing: keep it.
    if (victim.log_cost > lineCost(kLogDropped)) dropLogLocked(victim);
  }
  return used_ + cost <= options_.limit;
}

void MemoryStorage::dropLogLocked(Entry& entry) {
  used_ -= entry.log_cost;
  entry.log_cost = 0;
  entry.log = {};        // a new deque: clear() may keep a block
  entry.output.reset();  // counted in log_cost too
  entry.log_dropped = true;
  appendNoticeLocked(entry, kLogDropped);
}

// Notices are let over the limit: at most two per job, and they explain what is missing.
void MemoryStorage::appendNoticeLocked(Entry& entry, std::string_view notice) {
  entry.log.emplace_back(notice);
  entry.log_cost += lineCost(notice);
  used_ += lineCost(notice);
}

}  // namespace dray::plugins::storage::memory

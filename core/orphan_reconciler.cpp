#include "core/orphan_reconciler.hpp"

#include <spdlog/spdlog.h>

#include "core/job_log.hpp"

namespace dray::core {
namespace {

constexpr auto kRetry = std::chrono::seconds(2);

}  // namespace

OrphanReconciler::OrphanReconciler(sdk::Storage& storage, std::function<bool(const std::string&)> is_active,
                                   std::chrono::milliseconds settle_after)
    : storage_(storage), is_active_(std::move(is_active)), settle_after_(settle_after), thread_([this] { loop(); }) {}

OrphanReconciler::~OrphanReconciler() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_all();
  thread_.join();
  std::lock_guard lock(mutex_);
  for (const auto& [due, id] : due_) {
    spdlog::warn("job {}: its creation was not confirmed by storage and could not be checked before shutdown", id);
  }
}

void OrphanReconciler::watch(const std::string& job_id) {
  {
    std::lock_guard lock(mutex_);
    due_.emplace(Clock::now() + settle_after_, job_id);
  }
  wake_.notify_all();
}

std::size_t OrphanReconciler::watching() const {
  std::lock_guard lock(mutex_);
  return due_.size();
}

bool OrphanReconciler::settle(const std::string& job_id) {
  try {
    auto record = storage_.getJob(job_id);
    if (!record || record->status != sdk::kStatusRunning || is_active_(job_id)) return true;
    JobLogger(storage_, job_id)
        .error(
            "not run: dray answered the request that created this job with an error because storage did not "
            "confirm the write in time; the write landed later");
    storage_.flush();
    storage_.setStatus(job_id, sdk::kStatusError);
    spdlog::warn("job {}: stored although its creation was reported as failed; ended as error", job_id);
    return true;
  } catch (const std::exception& e) {
    spdlog::debug("job {}: cannot check its record yet: {}", job_id, e.what());
    return false;
  }
}

void OrphanReconciler::loop() {
  std::unique_lock lock(mutex_);
  while (!stopping_) {
    if (due_.empty()) {
      wake_.wait(lock);
      continue;
    }
    auto next = due_.begin();
    if (next->first > Clock::now()) {
      const Clock::time_point due = next->first;  // a copy: the entry may go while this waits
      wake_.wait_until(lock, due);
      continue;
    }
    std::string id = next->second;
    due_.erase(next);
    lock.unlock();
    bool done = settle(id);
    lock.lock();
    if (!done) due_.emplace(Clock::now() + kRetry, id);
  }
}

}  // namespace dray::core

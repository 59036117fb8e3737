#include "core/recovery.hpp"

#include <spdlog/spdlog.h>

#include "core/job_log.hpp"
#include "core/step_executor.hpp"

namespace dray::core {

RecoveryReport recoverAfterRestart(sdk::Storage& storage, sdk::Runtime& runtime, const std::string& instance,
                                   const IsActive& is_active, const std::string& started_at) {
  RecoveryReport report;
  try {
    for (const auto& container : runtime.listLabelled(std::string(kInstanceLabel) + "=" + instance)) {
      ++(runtime.remove(container) ? report.containers_removed : report.containers_left);
    }
  } catch (const std::exception& e) {
    spdlog::warn("recovery: cannot list containers of instance '{}': {}", instance, e.what());
  }
  try {
    for (const auto& id : storage.listJobs()) {
      auto job = storage.getJob(id);
      if (!job || job->owner != instance || job->status != sdk::kStatusRunning) continue;
      // Accepted by this very start (stored a moment before the runner holds it, or held).
      if (!started_at.empty() && job->created_at >= started_at) continue;
      if (is_active && is_active(id)) continue;
      JobLogger(storage, id).error(std::string(kInterruptedLine) + "; it was not resumed");
      storage.flush();
      storage.setStatus(id, sdk::kStatusError);
      ++report.jobs_interrupted;
    }
    storage.flush();
  } catch (const std::exception& e) {
    spdlog::warn("recovery: cannot check the jobs of instance '{}': {}", instance, e.what());
  }
  spdlog::info("recovery: done ({} containers removed, {} left to background retries, {} jobs ended)",
               report.containers_removed, report.containers_left, report.jobs_interrupted);
  if (report.containers_removed || report.containers_left || report.jobs_interrupted) {
    spdlog::warn(
        "recovery: removed {} containers, {} more the engine would not remove (left to background retries), "
        "and ended {} interrupted jobs of instance '{}'",
        report.containers_removed, report.containers_left, report.jobs_interrupted, instance);
  }
  return report;
}

}  // namespace dray::core

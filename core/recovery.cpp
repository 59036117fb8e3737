#include "recovery.hpp"

#include <spdlog/spdlog.h>

#include "job_log.hpp"
#include "step_executor.hpp"

namespace dray::core {

RecoveryReport recoverAfterRestart(sdk::Storage& storage, sdk::Runtime& runtime, const std::string& instance) {
  RecoveryReport report;
  try {
    for (const auto& container : runtime.listLabelled(std::string(kInstanceLabel) + "=" + instance)) {
      runtime.remove(container);
      ++report.containers_removed;
    }
  } catch (const std::exception& e) {
    spdlog::warn("recovery: cannot list containers of instance '{}': {}", instance, e.what());
  }
  try {
    for (const auto& id : storage.listJobs()) {
      auto job = storage.getJob(id);
      if (!job || job->owner != instance || job->status != sdk::kStatusRunning) continue;
      JobLogger(storage, id).error("interrupted: dray stopped while this job was running; it was not resumed");
      storage.flush();
      storage.setStatus(id, sdk::kStatusError);
      ++report.jobs_interrupted;
    }
    storage.flush();
  } catch (const std::exception& e) {
    spdlog::warn("recovery: cannot check the jobs of instance '{}': {}", instance, e.what());
  }
  if (report.containers_removed || report.jobs_interrupted) {
    spdlog::warn("recovery: removed {} containers and ended {} interrupted jobs of instance '{}'",
                 report.containers_removed, report.jobs_interrupted, instance);
  }
  return report;
}

}  // namespace dray::core

#pragma once

#include <functional>
#include <string>

#include "dray/sdk/runtime.hpp"
#include "dray/sdk/storage.hpp"

namespace dray::core {

/// The log line of a job whose dray stopped under it (recovery, and the queue worker for the
/// jobs this node took from the shared queue), before what became of it.
inline constexpr const char* kInterruptedLine = "interrupted: dray stopped while this job was running";

/// What start-up recovery found and fixed.
struct RecoveryReport {
  std::size_t containers_removed = 0;
  std::size_t containers_left = 0;  ///< the engine would not remove them: the runtime keeps trying
  std::size_t jobs_interrupted = 0;
};

/// Whether the new runner already holds a job (accepted after this start-up).
using IsActive = std::function<bool(const std::string& job_id)>;

/// Cleans up after a dray of the same `instance` that died (kill -9, crash, power loss):
/// removes every container labelled dray.instance=<instance>, and ends each job this
/// instance owned that storage still shows running as `error`, with a log line saying it
/// was interrupted. Jobs accepted since this start (created at or after `started_at`, RFC
/// 3339, or held by the runner: `is_active`) are left alone, so recovery can run while the
/// API already takes jobs (the runner holds them until recovery is done). Failures are
/// logged, never fatal.
RecoveryReport recoverAfterRestart(sdk::Storage& storage, sdk::Runtime& runtime, const std::string& instance,
                                   const IsActive& is_active = {}, const std::string& started_at = "");

}  // namespace dray::core

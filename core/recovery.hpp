#pragma once

#include <string>

#include "dray/sdk/runtime.hpp"
#include "dray/sdk/storage.hpp"

namespace dray::core {

/// What start-up recovery found and fixed.
struct RecoveryReport {
  std::size_t containers_removed = 0;
  std::size_t jobs_interrupted = 0;
};

/// Cleans up after a dray of the same `instance` that died (kill -9, crash, power loss):
/// removes every container labelled dray.instance=<instance>, and ends each job this
/// instance owned that storage still shows running as `error`, with a log line saying it
/// was interrupted. Failures are logged, never fatal. Call before taking new jobs.
RecoveryReport recoverAfterRestart(sdk::Storage& storage, sdk::Runtime& runtime, const std::string& instance);

}  // namespace dray::core

#pragma once

#include <stop_token>

#include "dray/sdk/runtime.hpp"
#include "dray/sdk/storage.hpp"
#include "job_log.hpp"
#include "job_resolver.hpp"
#include "spool.hpp"

namespace dray::core {

/// Label keys put on every container, so tools (and orphan reaping) can find ours.
inline constexpr const char* kJobLabel = "dray.job";
inline constexpr const char* kStepLabel = "dray.step";
inline constexpr const char* kInstanceLabel = "dray.instance";

/// Runs one resolved step: ensures the image, wires stdout/stderr into the job log and
/// the step's capture, runs the container, and leaves what the capture passed on in
/// `output`. Stateless apart from its references; safe to share between workers.
class StepExecutor {
 public:
  StepExecutor(sdk::Runtime& runtime, sdk::Storage& storage, std::string instance)
      : runtime_(runtime), storage_(storage), instance_(std::move(instance)) {}

  /// @return the container's exit code. Throws sdk::PluginError (or another
  /// std::exception) when the step could not run to its end.
  int run(const ResolvedStep& step, sdk::ByteSource& input, Spool& output, std::stop_token stop,
          JobLogBudget& log_budget);

  /// The container spec for a step: image, merged env, labels (job, step, instance).
  sdk::ContainerSpec containerFor(const sdk::StepSpec& step) const;

 private:
  sdk::Runtime& runtime_;
  sdk::Storage& storage_;
  std::string instance_;
};

}  // namespace dray::core

#pragma once

#include <exception>
#include <memory>
#include <optional>
#include <stop_token>

#include "core/delimited_sink.hpp"
#include "core/job_log.hpp"
#include "core/job_resolver.hpp"
#include "core/plugin_owned.hpp"
#include "core/spool.hpp"
#include "dray/sdk/runtime.hpp"
#include "dray/sdk/storage.hpp"

namespace dray::core {

/// Label keys put on every container, so tools (and orphan reaping) can find ours.
inline constexpr const char* kJobLabel = "dray.job";
inline constexpr const char* kStepLabel = "dray.step";
inline constexpr const char* kInstanceLabel = "dray.instance";

/// A step made ready before its turn: image ensured, capture opened, container created and
/// attached. What preparing logged is held back until the step runs, so the job log stays
/// in step order; a failure is kept and reported when the step runs. Destroying it removes
/// the container, run or not. Used by one thread at a time.
class PreparedStep {
 public:
  /// `masker` (not owned, may be null) masks secrets in everything the step logs.
  PreparedStep(sdk::Storage& storage, const std::string& job_id, std::size_t spool_memory,
               const SecretMasker* masker = nullptr)
      : log_(storage, job_id, masker), output_(std::make_unique<Spool>(spool_memory)) {}

  /// True when the container exists and nothing failed while preparing.
  bool ready() const { return container_ && !failure_; }

  /// The step's output for the next step; call after the step ran.
  std::unique_ptr<Spool> takeOutput() { return std::move(output_); }

 private:
  friend class StepExecutor;
  // Declared in construction order: the container goes first, the log last.
  DeferredJobLogger log_;
  std::size_t index_ = 0;  // 0-based, for the job log
  std::unique_ptr<Spool> output_;
  std::optional<DelimitedSink> delimited_;
  PluginOwned<sdk::Capture> capture_;
  PluginOwned<sdk::PreparedContainer> container_;
  std::exception_ptr failure_;
};

/// Runs resolved steps in two phases: prepare (may run ahead, on another thread, while
/// the previous step still runs) and run (start, stream into the job log and the step's
/// capture, wait). Stateless apart from its references; safe to share between workers.
class StepExecutor {
 public:
  /// `runtime` is shared so that every prepared container keeps the runtime plugin loaded.
  StepExecutor(std::shared_ptr<sdk::Runtime> runtime, sdk::Storage& storage, std::string instance)
      : runtime_(std::move(runtime)), storage_(storage), instance_(std::move(instance)) {}

  /// Ensures the image, opens the capture and creates the container. Never throws for the
  /// step's own failures: those surface from run(). Skips the container if `stop` is set.
  /// `masker` (not owned; outlives the prepared step; null = no secrets) masks the step's log.
  /// What the step passes on goes to `passed_to` (not owned; outlives the prepared step)
  /// when given, e.g. the next step's stdin in stream mode; else to the step's own spool.
  std::unique_ptr<PreparedStep> prepare(const ResolvedStep& step, std::size_t spool_memory, std::stop_token stop,
                                        const SecretMasker* masker = nullptr, sdk::ByteSink* passed_to = nullptr) const;

  /// Runs a prepared step with `input` as stdin; its output stays in the prepared step.
  /// @return how the container ended. Throws sdk::PluginError (or another
  /// std::exception) when the step could not run to its end.
  sdk::ContainerExit run(PreparedStep& step, sdk::ByteSource& input, std::stop_token stop,
                         JobLogBudget& log_budget) const;

  /// The container spec for a step: image, merged env, labels (job, step, instance).
  sdk::ContainerSpec containerFor(const sdk::StepSpec& step) const;

 private:
  std::shared_ptr<sdk::Runtime> runtime_;
  sdk::Storage& storage_;
  std::string instance_;
};

}  // namespace dray::core

/// One job's steps in order: prepare ahead, run, record, clean up. The runner owns queueing,
/// workers, timeouts and cancel; this unit owns what happens between a job's first step and
/// its final status.
#pragma once

#include <optional>
#include <stop_token>
#include <string>

#include "core/job_resolver.hpp"
#include "core/job_state.hpp"
#include "core/log_counting_storage.hpp"
#include "core/metrics.hpp"
#include "core/step_executor.hpp"
#include "dray/sdk/storage.hpp"

namespace dray::core {

/// Why a job was stopped from outside (cancel, deadline, step timeout, shutdown).
struct StopReason {
  std::string reason;  ///< for the job log, e.g. "timed out after 5 s"
  Status status = Status::kError;
};

/// What the pipeline asks of the runner that owns the running job. Called on the job's
/// worker thread only.
class JobControl {
 public:
  virtual ~JobControl() = default;
  /// Requested when the whole job must stop: cancel, job deadline, shutdown.
  virtual std::stop_token stopToken() const = 0;
  /// An attempt of a step starts: arms its timeout (seconds, 0 = none) and returns the
  /// token that stops this attempt: on its timeout, or when the job stops.
  virtual std::stop_token attemptStarted(double timeout) = 0;
  /// The recorded reason once a job stop was decided, even before the stop was requested.
  virtual std::optional<StopReason> stopReason() const = 0;
  /// Why the current attempt was stopped by its own timeout ("timed out after 5 s"), if it was.
  virtual std::optional<std::string> attemptTimedOut() const = 0;
};

struct PipelineOptions {
  std::size_t spool_memory = 1 << 20;      ///< bytes between steps kept in RAM
  std::size_t log_limit = 8u << 20;        ///< stdout/stderr bytes logged per step
  std::size_t job_log_limit = 64u << 20;   ///< stdout/stderr bytes logged per job
  std::size_t output_limit = 8u << 20;     ///< final output bytes kept (DRAY_OUTPUT_LIMIT)
  std::size_t stream_buffer = 256u << 10;  ///< bytes between two steps in stream mode (DRAY_STREAM_BUFFER)
  double stream_drain = 5;                 ///< s later steps get after a failure, stream mode (DRAY_STREAM_DRAIN)
};

/// Runs the steps of one job: strictly in order, or all together, piped, for a job in
/// stream mode (step_pipeline_stream.cpp). Stateless apart from its references: one
/// instance serves every worker.
class StepPipeline {
 public:
  StepPipeline(LogCountingStorage& storage, const StepExecutor& executor, Metrics& metrics, PipelineOptions options)
      : storage_(storage), executor_(executor), metrics_(metrics), options_(options) {}

  /// Runs every step, recording each step and the completed count as it goes; leaves no
  /// container behind on any path. Does not write the job's final status.
  /// @return the job's final status (complete, error or canceled).
  Status run(const ResolvedJob& job, JobControl& control) const;

 private:
  Status runInOrder(const ResolvedJob& job, JobControl& control, JobLogger& job_log, const SecretMasker* masker) const;
  Status runTogether(const ResolvedJob& job, JobControl& control, JobLogger& job_log, const SecretMasker* masker) const;
  void recordStep(const ResolvedJob& job, const ResolvedStep& step, Status state, int exit_code,
                  const std::string& started_at, unsigned attempts, std::size_t log_from) const;
  void keepOutput(const ResolvedJob& job, Spool& output, JobLogger& job_log, const SecretMasker* masker) const;

  LogCountingStorage& storage_;
  const StepExecutor& executor_;
  Metrics& metrics_;
  PipelineOptions options_;
};

}  // namespace dray::core

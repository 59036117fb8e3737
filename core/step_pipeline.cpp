#include "core/step_pipeline.hpp"

#include <chrono>
#include <future>

#include <spdlog/spdlog.h>

#include "core/job_log.hpp"
#include "dray/sdk/errors.hpp"

namespace dray::core {
namespace {

using Clock = std::chrono::steady_clock;

std::string describeStep(const ResolvedStep& step) {
  std::string text = "step " + std::to_string(step.spec.index + 1);
  if (!step.spec.name.empty()) text += " \"" + step.spec.name + "\"";
  return text + " (" + step.source + ")";
}

}  // namespace

Status StepPipeline::run(const ResolvedJob& job, JobControl& control) const {
  // Built per running job, not per queued one: its trie costs ~40 bytes per secret byte.
  // Declared before the futures below, so it outlives every step prepared ahead.
  const std::optional<SecretMasker> secrets =
      job.secrets.empty() ? std::nullopt : std::make_optional<SecretMasker>(job.secrets);
  const SecretMasker* masker = secrets ? &*secrets : nullptr;  // null: the allocation-free path
  JobLogger job_log(storage_, job.id, masker);
  const std::stop_token stop = control.stopToken();
  spdlog::info("job {}: started ({} steps)", job.id, job.steps.size());
  // The previous step's spool stays alive while the next step reads from it.
  std::unique_ptr<Spool> previous;
  std::unique_ptr<sdk::ByteSource> input = std::make_unique<EmptySource>();
  // Off the critical path: the next step is prepared (container created and attached)
  // while the current one runs, and a finished step's container is removed while the next
  // one starts. Both are waited for before the job's final status is written, so no
  // container of a finished job is left; leaving early also waits for them.
  std::future<std::unique_ptr<PreparedStep>> ahead;
  std::future<void> cleanup;
  storage_.setTimes(job.id, nowRfc3339(), "");
  JobLogBudget job_budget{options_.job_log_limit};  // all steps together: DRAY_JOB_LOG_LIMIT
  for (std::size_t i = 0; i < job.steps.size(); ++i) {
    const ResolvedStep& step = job.steps[i];
    control.stepStarted(step.timeout);
    const std::string started_at = nowRfc3339();
    const auto started = Clock::now();
    recordStep(job, step, Status::kRunning, -1, started_at);
    JobLogBudget budget{options_.log_limit, &job_budget};  // per step: a chatty step never hides the next one's output
    std::unique_ptr<PreparedStep> current;
    std::string failure;
    std::string engine_note;  // what the engine failed to do, said even when the stop was ours
    int exit_code = -1;
    try {
      if (stop.stop_requested()) throw std::runtime_error("stopped");
      current = ahead.valid() ? ahead.get() : executor_.prepare(step, options_.spool_memory, stop, masker);
      if (current->ready() && i + 1 < job.steps.size()) {
        ahead = std::async(std::launch::async, [this, &next = job.steps[i + 1], stop, masker] {
          return executor_.prepare(next, options_.spool_memory, stop, masker);
        });
      }
      exit_code = executor_.run(*current, *input, stop, budget);
      if (exit_code != 0) failure = "exited with code " + std::to_string(exit_code);
    } catch (const sdk::EngineUnresponsive& e) {
      metrics_.engineError();
      failure = engine_note = e.what();
    } catch (const sdk::EngineError& e) {
      if (!stop.stop_requested()) metrics_.engineError();
      failure = e.what();
    } catch (const std::exception& e) {
      failure = e.what();
    }
    metrics_.logLines(budget.lines_logged);
    metrics_.stepFinished(failure.empty(), std::chrono::duration<double>(Clock::now() - started).count());
    Status status = Status::kError;
    // A stop counts from the moment its reason is recorded (cancel has answered 202 by
    // then), even if the step ended on its own before the stop was requested.
    if (auto stopped = control.stopReason()) {
      failure = stopped->reason;
      status = stopped->status;
    }
    if (!failure.empty()) {
      if (masker) failure = masker->mask(failure);  // an engine message may quote the env
      if (!engine_note.empty() && engine_note != failure) job_log.error(engine_note);
      job_log.error(status == Status::kCanceled ? "canceled during " + describeStep(step) + "; later steps not run"
                                                : describeStep(step) + " failed: " + failure + "; later steps not run");
      spdlog::warn("job {}: {}: {}", job.id, describeStep(step), failure);
      recordStep(job, step, status, exit_code, started_at);
      current.reset();  // removes this step's container
      ahead = {};       // waits for the next step's preparation and removes its container
      cleanup = {};
      return status;
    }
    recordStep(job, step, Status::kComplete, exit_code, started_at);
    storage_.setCompletedSteps(job.id, step.spec.index + 1);
    // The step before this one is fully gone before its spool (its capture's target) goes.
    if (cleanup.valid()) cleanup.get();
    previous = current->takeOutput();
    input = previous->reader();
    cleanup = std::async(std::launch::async, [done = std::move(current)]() mutable { done.reset(); });
  }
  if (cleanup.valid()) cleanup.get();
  spdlog::info("job {}: complete", job.id);
  return Status::kComplete;
}

void StepPipeline::recordStep(const ResolvedJob& job, const ResolvedStep& step, Status state, int exit_code,
                              const std::string& started_at) const {
  sdk::StepRecord record{step.spec.name, step.source, std::string(toString(state)), exit_code, started_at, ""};
  if (state != Status::kRunning) record.finished_at = nowRfc3339();
  try {
    storage_.setStep(job.id, step.spec.index, record);
  } catch (const std::exception& e) {
    spdlog::error("job {}: cannot record step {}: {}", job.id, step.spec.index + 1, e.what());
  }
}

}  // namespace dray::core

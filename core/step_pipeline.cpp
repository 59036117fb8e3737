#include "core/step_pipeline.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <condition_variable>
#include <cstdio>
#include <future>
#include <mutex>

#include <spdlog/spdlog.h>

#include "core/job_log.hpp"
#include "core/step_text.hpp"
#include "dray/sdk/errors.hpp"

namespace dray::core {
namespace {

using Clock = std::chrono::steady_clock;

// The step as attempt `attempt` runs it: DRAY_CURRENT_STEP_ATTEMPT says which one, unless
// the step's own environment set that name (the step's own variables always win).
ResolvedStep forAttempt(const ResolvedStep& step, unsigned attempt) {
  ResolvedStep copy = step;
  if (step.step_sets_attempt) return copy;
  for (auto& var : copy.spec.env) {
    if (var.name == kAttemptVariable) var.value = std::to_string(attempt);
  }
  return copy;
}

// Seconds before retry number `retry` (1-based): the backoff doubles each time, capped.
double backoffBefore(const ResolvedStep& step, unsigned retry) {
  const double delay = step.retry_backoff * std::pow(2.0, static_cast<double>(retry - 1));
  return std::min(delay, step.retry_backoff_max);
}

// Sleeps for `seconds` unless `stop` is requested first.
void waitUnlessStopped(double seconds, std::stop_token stop) {
  if (seconds <= 0) return;
  std::mutex mutex;
  std::condition_variable_any wake;
  std::unique_lock lock(mutex);
  wake.wait_for(lock, stop, std::chrono::duration<double>(seconds), [] { return false; });
}

}  // namespace

Status StepPipeline::run(const ResolvedJob& job, JobControl& control) const {
  // Built per running job, not per queued one: its trie costs ~40 bytes per secret byte.
  // Declared before the futures below, so it outlives every step prepared ahead.
  const std::optional<SecretMasker> secrets =
      job.secrets.empty() ? std::nullopt : std::make_optional<SecretMasker>(job.secrets);
  const SecretMasker* masker = secrets ? &*secrets : nullptr;  // null: the allocation-free path
  JobLogger job_log(storage_, job.id, masker);
  const auto job_started = Clock::now();
  spdlog::info("job {}: started ({} steps)", job.id, job.steps.size());
  // Said again although the record already says running: the production fork's clients
  // subscribe to `<id>:status` only after POST answered, and learn here that it started.
  storage_.setStatus(job.id, std::string(toString(Status::kRunning)));
  storage_.setTimes(job.id, nowRfc3339(), "");
  // How long the job took (the fork's finishedIn), written on every way out.
  struct FinishedIn {
    sdk::Storage& storage;
    const std::string& id;
    Clock::time_point started;
    ~FinishedIn() {
      try {
        storage.setFinishedIn(id, decimal(std::chrono::duration<double>(Clock::now() - started).count(), "%.3f"));
      } catch (const std::exception& e) {
        spdlog::error("job {}: cannot record finishedIn: {}", id, e.what());
      }
    }
  } finished_in{storage_, job.id, job_started};
  return job.stream ? runTogether(job, control, job_log, masker) : runInOrder(job, control, job_log, masker);
}

Status StepPipeline::runInOrder(const ResolvedJob& job, JobControl& control, JobLogger& job_log,
                                const SecretMasker* masker) const {
  const std::stop_token stop = control.stopToken();
  // The input of the step about to run: the job's `input` for the first step, then the
  // output of the step before. Kept until the step succeeded, so a retry reads it again.
  auto input = std::make_unique<Spool>(options_.spool_memory);
  input->write(job.input);
  // Off the critical path: the next step is prepared (container created and attached)
  // while the current one runs, and a finished step's container is removed while the next
  // one starts. Both are waited for before the job's final status is written, so no
  // container of a finished job is left; leaving early also waits for them.
  std::future<std::unique_ptr<PreparedStep>> ahead;
  std::future<void> cleanup;
  JobLogBudget job_budget{options_.job_log_limit};  // all steps together: DRAY_JOB_LOG_LIMIT
  for (std::size_t i = 0; i < job.steps.size(); ++i) {
    const ResolvedStep& step = job.steps[i];
    const unsigned attempts = step.retries + 1;
    std::unique_ptr<PreparedStep> current;
    for (unsigned attempt = 1;; ++attempt) {
      const std::stop_token attempt_stop = control.attemptStarted(step.timeout);
      const std::string started_at = nowRfc3339();
      const auto started = Clock::now();
      const std::size_t log_from = storage_.linesLogged(job.id);
      recordStep(job, step, Status::kRunning, -1, started_at, attempt, log_from);
      JobLogBudget budget{options_.log_limit, &job_budget};  // per step: a chatty step never hides the next one's
      std::string failure;
      std::string engine_note;  // what the engine failed to do, said even when the stop was ours
      bool out_of_memory = false;
      int exit_code = -1;
      try {
        if (stop.stop_requested()) throw std::runtime_error("stopped");
        if (i == 0 && attempt == 1) {
          spdlog::debug("job {}: first container call {:.2f} ms after it was accepted", job.id,
                        millisecondsSince(job.accepted_at));
        }
        if (attempt == 1 && ahead.valid()) {
          current = ahead.get();
        } else {
          current = executor_.prepare(forAttempt(step, attempt), options_.spool_memory, stop, masker);
        }
        if (attempt == 1 && current->ready() && i + 1 < job.steps.size()) {
          ahead = std::async(std::launch::async, [this, &next = job.steps[i + 1], stop, masker] {
            return executor_.prepare(next, options_.spool_memory, stop, masker);
          });
        }
        const sdk::ContainerExit exit = executor_.run(*current, *input->reader(), attempt_stop, budget);
        exit_code = exit.code;
        out_of_memory = exit.oom_killed;
        if (exit_code != 0) failure = "exited with code " + std::to_string(exit_code);
      } catch (const sdk::EngineUnresponsive& e) {
        metrics_.engineError();
        failure = engine_note = e.what();
      } catch (const sdk::EngineError& e) {
        if (!attempt_stop.stop_requested()) metrics_.engineError();
        failure = e.what();
      } catch (const std::exception& e) {
        failure = e.what();
      }
      metrics_.logLines(budget.lines_logged);
      metrics_.stepFinished(failure.empty(), std::chrono::duration<double>(Clock::now() - started).count());
      Status status = Status::kError;
      bool may_retry = true;
      // A stop counts from the moment its reason is recorded (cancel has answered 202 by
      // then), even if the step ended on its own before the stop was requested. Cancel and
      // the job deadline are never retried; a step's own timeout is.
      if (auto stopped = control.stopReason()) {
        failure = stopped->reason;
        status = stopped->status;
        may_retry = false;
        out_of_memory = false;
      } else if (auto timed_out = control.attemptTimedOut()) {
        failure = *timed_out;
      }
      if (failure.empty()) {
        recordStep(job, step, Status::kComplete, exit_code, started_at, attempt, log_from);
        break;
      }
      if (masker) failure = masker->mask(failure);  // an engine message may quote the env
      if (!engine_note.empty() && engine_note != failure) job_log.error(engine_note);
      const std::string step_number = "step " + std::to_string(i + 1);
      if (out_of_memory) {
        failure = "killed: out of memory (limit " + describeMemory(step.spec.resources.memory) + ")";
      }
      if (may_retry && attempt < attempts) {
        const double delay = backoffBefore(step, attempt);
        const std::string why = out_of_memory ? "out of memory" : failure;
        job_log.warn(step_number + " attempt " + std::to_string(attempt + 1) + "/" + std::to_string(attempts) +
                     " after " + why + ", next in " + describeSeconds(delay));
        spdlog::info("job {}: {} failed ({}), retrying in {} s", job.id, describeStep(step), failure, delay);
        recordStep(job, step, Status::kError, exit_code, started_at, attempt, log_from);
        metrics_.stepRetried();
        current.reset();  // removes the failed attempt's container before the next one
        waitUnlessStopped(delay, stop);
        continue;  // a stop during the wait ends the next attempt at once, not retried
      }
      if (status == Status::kCanceled) {
        job_log.error("canceled during " + describeStep(step) + "; later steps not run");
      } else if (out_of_memory) {
        job_log.error(step_number + " " + failure + "; later steps not run");
      } else {
        job_log.error(describeStep(step) + " failed: " + failure + "; later steps not run");
      }
      spdlog::warn("job {}: {}: {}", job.id, describeStep(step), failure);
      recordStep(job, step, status, exit_code, started_at, attempt, log_from);
      current.reset();  // removes this step's container
      ahead = {};       // waits for the next step's preparation and removes its container
      cleanup = {};
      return status;
    }
    storage_.setCompletedSteps(job.id, step.spec.index + 1);
    // The step before this one is fully gone before its spool (its capture's target) goes.
    if (cleanup.valid()) cleanup.get();
    input = current->takeOutput();
    cleanup = std::async(std::launch::async, [done = std::move(current)]() mutable { done.reset(); });
  }
  if (cleanup.valid()) cleanup.get();
  keepOutput(job, *input, job_log, masker);
  spdlog::info("job {}: complete", job.id);
  return Status::kComplete;
}

// The last step's output becomes the job's output (the fork's `<prefix>:<id>:output`),
// unless it is empty or larger than DRAY_OUTPUT_LIMIT. Secret values in it are masked like
// in the log: a secret never reaches storage in clear.
void StepPipeline::keepOutput(const ResolvedJob& job, Spool& output, JobLogger& job_log,
                              const SecretMasker* masker) const {
  if (output.size() == 0) return;
  if (output.size() > options_.output_limit) {
    job_log.warn("the job's output (" + std::to_string(output.size()) + " bytes) is larger than DRAY_OUTPUT_LIMIT (" +
                 std::to_string(options_.output_limit) + " bytes): not kept; GET /jobs/" + job.id +
                 "/output answers 404");
    return;
  }
  std::string bytes;
  bytes.reserve(output.size());
  auto reader = output.reader();
  char buffer[64 * 1024];
  while (std::size_t n = reader->read(buffer, sizeof buffer)) bytes.append(buffer, n);
  if (masker) bytes = masker->mask(bytes);
  try {
    storage_.setOutput(job.id, bytes);
  } catch (const std::exception& e) {
    job_log.error("the job's output could not be kept: " + std::string(e.what()));
  }
}

void StepPipeline::recordStep(const ResolvedJob& job, const ResolvedStep& step, Status state, int exit_code,
                              const std::string& started_at, unsigned attempts, std::size_t log_from) const {
  sdk::StepRecord record{step.spec.name, step.source, std::string(toString(state)), exit_code, started_at, "",
                         attempts};
  record.log_from = log_from;
  if (state != Status::kRunning) {
    record.finished_at = nowRfc3339();
    record.log_until = storage_.linesLogged(job.id);
  }
  try {
    storage_.setStep(job.id, step.spec.index, record);
  } catch (const std::exception& e) {
    spdlog::error("job {}: cannot record step {}: {}", job.id, step.spec.index + 1, e.what());
  }
}

}  // namespace dray::core

// Stream mode: a job's steps run together, each one's output flowing into the next one's
// stdin while both run, the way a shell pipe runs `a | b | c`.
#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <future>
#include <mutex>
#include <optional>
#include <thread>

#include <spdlog/spdlog.h>

#include "core/step_pipeline.hpp"
#include "core/step_text.hpp"
#include "core/stream_pipe.hpp"
#include "dray/sdk/errors.hpp"

namespace dray::core {
namespace {

using Clock = std::chrono::steady_clock;

// Why dray itself stopped a step.
enum class StoppedBy {
  kNothing,
  kReaderEnded,  // the step reading its output had ended: a shell's writer would get SIGPIPE
  kDrain,        // a step before it failed, and it did not end within DRAY_STREAM_DRAIN
  kTimeout,      // its own timeout
};

struct StreamedStep {
  std::unique_ptr<PreparedStep> prepared;
  std::stop_source stop;
  std::string started_at;
  Clock::time_point started{};
  std::size_t log_from = 0;
  // Under the coordinator's mutex:
  StoppedBy stopped_by = StoppedBy::kNothing;
  bool ended = false;
  int exit_code = -1;
  bool out_of_memory = false;
  std::string failure;  // empty: exited 0
};

}  // namespace

Status StepPipeline::runTogether(const ResolvedJob& job, JobControl& control, JobLogger& job_log,
                                 const SecretMasker* masker) const {
  const std::size_t count = job.steps.size();
  const std::stop_token job_stop = control.attemptStarted(0);  // stops with the job; step timeouts are ours
  // pipes[k] carries step k's output to step k + 1.
  std::vector<std::unique_ptr<StreamPipe>> pipes;
  for (std::size_t k = 0; k + 1 < count; ++k) pipes.push_back(std::make_unique<StreamPipe>(options_.stream_buffer));
  Spool input(options_.spool_memory);
  input.write(job.input);
  auto first_input = input.reader();

  std::vector<StreamedStep> steps(count);
  {
    // Every container is created and attached before any starts, all at once.
    std::vector<std::future<std::unique_ptr<PreparedStep>>> preparing;
    for (std::size_t k = 0; k < count; ++k) {
      sdk::ByteSink* passed_to = k + 1 < count ? &pipes[k]->writer() : nullptr;  // the last: the job's output
      preparing.push_back(std::async(std::launch::async, [this, &step = job.steps[k], job_stop, masker, passed_to] {
        return executor_.prepare(step, options_.spool_memory, job_stop, masker, passed_to);
      }));
    }
    for (std::size_t k = 0; k < count; ++k) steps[k].prepared = preparing[k].get();
  }
  std::stop_callback stop_all(job_stop, [&steps] {
    for (auto& step : steps) step.stop.request_stop();
  });

  std::mutex mutex;
  std::condition_variable ended_cv;
  std::vector<std::size_t> ended_order;
  // The job-wide log limit is shared out: the steps log at the same time.
  const std::size_t step_log_limit = std::min(options_.log_limit, options_.job_log_limit / count);
  for (std::size_t k = 0; k < count; ++k) {
    steps[k].started_at = nowRfc3339();
    steps[k].started = Clock::now();
    steps[k].log_from = storage_.linesLogged(job.id);
    recordStep(job, job.steps[k], Status::kRunning, -1, steps[k].started_at, 1, steps[k].log_from);
  }
  std::vector<std::thread> threads;
  for (std::size_t k = 0; k < count; ++k) {
    threads.emplace_back([&, k] {
      StreamedStep& step = steps[k];
      JobLogBudget budget{step_log_limit};
      sdk::ByteSource& stdin_source = k == 0 ? *first_input : pipes[k - 1]->reader();
      std::string failure;
      int exit_code = -1;
      bool out_of_memory = false;
      try {
        const sdk::ContainerExit exit = executor_.run(*step.prepared, stdin_source, step.stop.get_token(), budget);
        exit_code = exit.code;
        out_of_memory = exit.oom_killed;
        if (exit_code != 0) failure = "exited with code " + std::to_string(exit_code);
      } catch (const sdk::EngineUnresponsive& e) {
        metrics_.engineError();
        failure = e.what();
      } catch (const sdk::EngineError& e) {
        if (!step.stop.stop_requested()) metrics_.engineError();
        failure = e.what();
      } catch (const std::exception& e) {
        failure = e.what();
      }
      if (k + 1 < count) pipes[k]->closeWriter();  // the next step reads what came, then its end
      if (k > 0) pipes[k - 1]->closeReader();      // the step before writes into nothing now
      metrics_.logLines(budget.lines_logged);
      metrics_.stepFinished(failure.empty(), std::chrono::duration<double>(Clock::now() - step.started).count());
      {
        std::lock_guard lock(mutex);
        step.ended = true;
        step.exit_code = exit_code;
        step.out_of_memory = out_of_memory;
        step.failure = std::move(failure);
        ended_order.push_back(k);
      }
      ended_cv.notify_all();
    });
  }

  // Watches the steps end, in the order they do, and stops what a shell pipe would stop.
  std::optional<std::size_t> first_failed;
  std::optional<Clock::time_point> drain_until;
  std::size_t completed = 0;
  std::size_t handled = 0;
  std::unique_lock lock(mutex);
  for (;;) {
    std::vector<std::size_t> to_stop;
    while (handled < ended_order.size()) {
      const std::size_t k = ended_order[handled++];
      StreamedStep& step = steps[k];
      if (k > 0 && !steps[k - 1].ended && steps[k - 1].stopped_by == StoppedBy::kNothing) {
        steps[k - 1].stopped_by = StoppedBy::kReaderEnded;
        to_stop.push_back(k - 1);
      }
      // Ended by its write into a pipe nobody reads any more (or stopped after that): SIGPIPE.
      if (!step.failure.empty() && step.stopped_by == StoppedBy::kNothing && k + 1 < count &&
          pipes[k]->readerClosed()) {
        step.stopped_by = StoppedBy::kReaderEnded;
      }
      Status state = Status::kComplete;
      if (step.failure.empty()) {
        ++completed;
      } else if (auto stopped = control.stopReason()) {
        state = stopped->status;
      } else if (step.stopped_by == StoppedBy::kReaderEnded || step.stopped_by == StoppedBy::kDrain) {
        state = Status::kCanceled;  // dray stopped it; not a failure of its own
      } else {
        state = Status::kError;
        if (step.stopped_by == StoppedBy::kTimeout)
          step.failure = "timed out after " + describeSeconds(job.steps[k].timeout);
        if (step.out_of_memory) {
          step.failure = "killed: out of memory (limit " + describeMemory(job.steps[k].spec.resources.memory) + ")";
        }
        if (masker) step.failure = masker->mask(step.failure);  // an engine message may quote the env
        if (!first_failed) {
          first_failed = k;
          drain_until = Clock::now() + std::chrono::duration_cast<Clock::duration>(
                                           std::chrono::duration<double>(options_.stream_drain));
        }
      }
      recordStep(job, job.steps[k], state, step.exit_code, step.started_at, 1, step.log_from);
      if (step.failure.empty()) storage_.setCompletedSteps(job.id, completed);
    }
    if (handled == count) break;
    const auto now = Clock::now();
    auto wake = Clock::time_point::max();
    for (std::size_t k = 0; k < count; ++k) {
      StreamedStep& step = steps[k];
      if (step.ended || step.stopped_by != StoppedBy::kNothing) continue;
      if (job.steps[k].timeout > 0) {
        const auto due = step.started + std::chrono::duration_cast<Clock::duration>(
                                            std::chrono::duration<double>(job.steps[k].timeout));
        if (now >= due) {
          step.stopped_by = StoppedBy::kTimeout;
          to_stop.push_back(k);
          continue;
        }
        wake = std::min(wake, due);
      }
      if (first_failed && k > *first_failed) {  // after a failure: its end of input, then a while
        if (now >= *drain_until) {
          step.stopped_by = StoppedBy::kDrain;
          to_stop.push_back(k);
        } else {
          wake = std::min(wake, *drain_until);
        }
      }
    }
    if (!to_stop.empty()) {
      lock.unlock();  // the runtime's stop callbacks run on this thread
      for (std::size_t k : to_stop) steps[k].stop.request_stop();
      lock.lock();
      continue;
    }
    if (handled < ended_order.size()) continue;
    if (wake == Clock::time_point::max()) {
      ended_cv.wait(lock);
    } else {
      ended_cv.wait_until(lock, wake);
    }
  }
  lock.unlock();
  for (auto& thread : threads) thread.join();

  Status status = Status::kComplete;
  if (auto stopped = control.stopReason()) {
    status = stopped->status;
    job_log.error((status == Status::kCanceled ? std::string("canceled") : stopped->reason) +
                  " while the steps streamed; every step was stopped");
  } else if (first_failed) {
    status = Status::kError;
    const ResolvedStep& failed = job.steps[*first_failed];
    job_log.error(describeStep(failed) + " failed: " + steps[*first_failed].failure +
                  "; the steps before it were stopped, the ones after it got the end of their input");
    spdlog::warn("job {}: {}: {}", job.id, describeStep(failed), steps[*first_failed].failure);
  } else {
    keepOutput(job, *steps[count - 1].prepared->takeOutput(), job_log, masker);
  }
  // Every container is removed before the job's final status is written, all at once.
  std::vector<std::future<void>> removals;
  for (auto& step : steps) {
    removals.push_back(std::async(std::launch::async, [done = std::move(step.prepared)]() mutable { done.reset(); }));
  }
  for (auto& removal : removals) removal.get();
  if (status == Status::kComplete) spdlog::info("job {}: complete", job.id);
  return status;
}

}  // namespace dray::core

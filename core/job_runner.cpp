#include "job_runner.hpp"

#include <algorithm>
#include <future>

#include <spdlog/spdlog.h>

#include "dray/sdk/errors.hpp"
#include "job_log.hpp"

namespace dray::core {
namespace {

std::string describeStep(const ResolvedStep& step) {
  std::string text = "step " + std::to_string(step.spec.index + 1);
  if (!step.spec.name.empty()) text += " \"" + step.spec.name + "\"";
  return text + " (" + step.source + ")";
}

std::string seconds(double value) {
  char text[32];
  std::snprintf(text, sizeof text, "%g s", value);
  return text;
}

template <typename TimePoint>
TimePoint after(TimePoint now, double seconds) {
  if (seconds <= 0) return TimePoint::max();
  return now + std::chrono::duration_cast<typename TimePoint::duration>(std::chrono::duration<double>(seconds));
}

}  // namespace

JobRunner::JobRunner(sdk::Storage& storage, sdk::Runtime& runtime, RunnerOptions options)
    : storage_(storage), executor_(runtime, storage, options.instance), options_(std::move(options)),
      held_(options_.held) {
  for (unsigned i = 0; i < options_.workers; ++i) workers_.emplace_back([this] { workerLoop(); });
  watchdog_ = std::thread([this] { watchdogLoop(); });
}

JobRunner::~JobRunner() { shutdown(); }

void JobRunner::submit(ResolvedJob job) {
  {
    std::lock_guard lock(mutex_);
    if (stopping_) throw std::runtime_error("dray is shutting down and takes no new jobs");
    if (queue_.size() >= options_.max_queue) {
      throw QueueFull(std::to_string(queue_.size()) + " jobs are already waiting; try again later");
    }
    queue_.push_back(std::move(job));
  }
  wake_.notify_all();
}

bool JobRunner::cancel(const std::string& id) {
  std::unique_lock lock(mutex_);
  if (auto it = running_.find(id); it != running_.end()) {
    auto source = stopLocked(it->second, "canceled", sdk::kStatusCanceled);
    lock.unlock();
    source.request_stop();  // outside the lock: stop callbacks run on this thread
    return true;
  }
  auto queued = findQueuedLocked(id);
  if (queued == queue_.end()) return false;
  queue_.erase(queued);
  lock.unlock();
  changed_.notify_all();
  JobLogger(storage_, id).warn("canceled before it started");
  finishJob(id, sdk::kStatusCanceled);
  return true;
}

void JobRunner::release() {
  {
    std::lock_guard lock(mutex_);
    held_ = false;
  }
  wake_.notify_all();
}

bool JobRunner::waitUntilInactive(const std::string& id, std::chrono::milliseconds timeout) {
  std::unique_lock lock(mutex_);
  return changed_.wait_for(lock, timeout, [&] { return !running_.count(id) && findQueuedLocked(id) == queue_.end(); });
}

std::optional<RunState> JobRunner::state(const std::string& id) const {
  std::lock_guard lock(mutex_);
  if (running_.count(id)) return RunState::kRunning;
  if (findQueuedLocked(id) != queue_.end()) return RunState::kQueued;
  return std::nullopt;
}

std::deque<ResolvedJob>::const_iterator JobRunner::findQueuedLocked(const std::string& id) const {
  return std::find_if(queue_.begin(), queue_.end(), [&](const ResolvedJob& job) { return job.id == id; });
}

void JobRunner::shutdown(std::chrono::milliseconds grace) {
  std::deque<ResolvedJob> abandoned;
  {
    std::lock_guard lock(mutex_);
    if (stopped_) return;
    stopping_ = true;
    abandoned.swap(queue_);
  }
  wake_.notify_all();
  changed_.notify_all();
  for (const auto& job : abandoned) {
    JobLogger(storage_, job.id).error("not run: dray shut down before the job started");
    finishJob(job.id, sdk::kStatusError);
  }
  std::vector<std::stop_source> to_stop;
  {
    std::unique_lock lock(mutex_);
    if (!changed_.wait_for(lock, grace, [this] { return running_.empty(); })) {
      for (auto& [id, active] : running_) {
        to_stop.push_back(stopLocked(active, "interrupted: dray shut down before the job finished", sdk::kStatusError));
        spdlog::warn("shutdown: stopping job {} (still running after the grace period)", id);
      }
    }
  }
  for (auto& source : to_stop) source.request_stop();
  for (auto& worker : workers_) worker.join();
  {
    std::lock_guard lock(mutex_);
    stopped_ = true;
  }
  wake_.notify_all();
  if (watchdog_.joinable()) watchdog_.join();
}

std::size_t JobRunner::queued() const {
  std::lock_guard lock(mutex_);
  return queue_.size();
}

std::size_t JobRunner::running() const {
  std::lock_guard lock(mutex_);
  return running_.size();
}

std::stop_source JobRunner::stopLocked(Active& active, std::string reason, const char* status) {
  if (!active.reason.empty()) return std::stop_source(std::nostopstate);  // the first reason wins
  active.reason = std::move(reason);
  active.final_status = status;
  return active.stop;  // the caller requests the stop once the lock is released
}

void JobRunner::watchdogLoop() {
  std::unique_lock lock(mutex_);
  while (!stopped_) {
    const auto now = Clock::now();
    auto next = now + std::chrono::seconds(1);
    std::vector<std::stop_source> to_stop;
    for (auto& [id, active] : running_) {
      if (!active.reason.empty()) continue;
      if (now >= active.job_deadline) {
        to_stop.push_back(stopLocked(active, "job deadline of " + seconds(active.job_deadline_seconds) + " passed",
                                     sdk::kStatusError));
      } else if (now >= active.step_deadline) {
        to_stop.push_back(stopLocked(active, "timed out after " + seconds(active.step_timeout), sdk::kStatusError));
      } else {
        next = std::min({next, active.job_deadline, active.step_deadline});
      }
    }
    if (!to_stop.empty()) {
      // Stop callbacks run on this thread: never with the runner's lock held.
      lock.unlock();
      for (auto& source : to_stop) source.request_stop();
      lock.lock();
      continue;
    }
    wake_.wait_until(lock, next);
  }
}

void JobRunner::workerLoop() {
  for (;;) {
    ResolvedJob job;
    {
      std::unique_lock lock(mutex_);
      wake_.wait(lock, [this] { return stopping_ || (!held_ && !queue_.empty()); });
      if (queue_.empty()) return;  // stopping, nothing left
      job = std::move(queue_.front());
      queue_.pop_front();
      Active& active = running_[job.id];
      active.job_deadline_seconds = job.deadline;
      active.job_deadline = after(Clock::now(), job.deadline);
    }
    wake_.notify_all();  // the watchdog learns the new deadline
    try {
      execute(job);
    } catch (const std::exception& e) {
      // Storage trouble must not kill a worker; the job is reported as failed if possible.
      spdlog::error("job {}: {}", job.id, e.what());
      finishJob(job.id, sdk::kStatusError);
    }
    {
      std::lock_guard lock(mutex_);
      running_.erase(job.id);
    }
    changed_.notify_all();
  }
}

void JobRunner::beginStep(const std::string& id, const ResolvedStep& step) {
  {
    std::lock_guard lock(mutex_);
    Active& active = running_.at(id);
    active.step_timeout = step.timeout;
    active.step_deadline = after(Clock::now(), step.timeout);
  }
  wake_.notify_all();
}

void JobRunner::execute(const ResolvedJob& job) {
  // Built per running job, not per queued one: its trie costs ~40 bytes per secret byte.
  // Declared before the futures below, so it outlives every step prepared ahead.
  const std::optional<SecretMasker> secrets =
      job.secrets.empty() ? std::nullopt : std::make_optional<SecretMasker>(job.secrets);
  const SecretMasker* masker = secrets ? &*secrets : nullptr;  // null: the allocation-free path
  JobLogger job_log(storage_, job.id, masker);
  std::stop_token stop;
  {
    std::lock_guard lock(mutex_);
    stop = running_.at(job.id).stop.get_token();
  }
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
    beginStep(job.id, step);
    const std::string started_at = nowRfc3339();
    const auto started = Clock::now();
    recordStep(job, step, "running", -1, started_at);
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
    const char* status = sdk::kStatusError;
    {
      // A stop counts from the moment its reason is recorded (cancel has answered 202 by
      // then), even if the step ended on its own before the stop was requested.
      std::lock_guard lock(mutex_);
      const Active& active = running_.at(job.id);
      if (!active.reason.empty()) {
        failure = active.reason;
        status = active.final_status;
      }
    }
    if (!failure.empty()) {
      if (masker) failure = masker->mask(failure);  // an engine message may quote the env
      const bool canceled = status == sdk::kStatusCanceled;
      if (!engine_note.empty() && engine_note != failure) job_log.error(engine_note);
      job_log.error(canceled ? "canceled during " + describeStep(step) + "; later steps not run"
                             : describeStep(step) + " failed: " + failure + "; later steps not run");
      spdlog::warn("job {}: {}: {}", job.id, describeStep(step), failure);
      recordStep(job, step, status, exit_code, started_at);
      current.reset();  // removes this step's container
      ahead = {};       // waits for the next step's preparation and removes its container
      cleanup = {};
      finishJob(job.id, status);
      return;
    }
    recordStep(job, step, sdk::kStatusComplete, exit_code, started_at);
    storage_.setCompletedSteps(job.id, step.spec.index + 1);
    // The step before this one is fully gone before its spool (its capture's target) goes.
    if (cleanup.valid()) cleanup.get();
    previous = current->takeOutput();
    input = previous->reader();
    cleanup = std::async(std::launch::async, [done = std::move(current)]() mutable { done.reset(); });
  }
  if (cleanup.valid()) cleanup.get();
  spdlog::info("job {}: complete", job.id);
  finishJob(job.id, sdk::kStatusComplete);
}

void JobRunner::recordStep(const ResolvedJob& job, const ResolvedStep& step, const char* state, int exit_code,
                           const std::string& started_at) {
  sdk::StepRecord record{step.spec.name, step.source, state, exit_code, started_at, ""};
  if (std::string(state) != "running") record.finished_at = nowRfc3339();
  try {
    storage_.setStep(job.id, step.spec.index, record);
  } catch (const std::exception& e) {
    spdlog::error("job {}: cannot record step {}: {}", job.id, step.spec.index + 1, e.what());
  }
}

void JobRunner::finishJob(const std::string& id, const char* status) {
  metrics_.jobFinished(status);
  try {
    storage_.flush();
    storage_.setTimes(id, "", nowRfc3339());
    storage_.setStatus(id, status);
  } catch (const std::exception& e) {
    spdlog::error("job {}: cannot record status {}: {}", id, status, e.what());
  }
}

}  // namespace dray::core

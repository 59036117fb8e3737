#include "core/job_runner.hpp"

#include <algorithm>

#include <spdlog/spdlog.h>

#include "core/job_log.hpp"
#include "core/step_text.hpp"
#include "dray/sdk/errors.hpp"

namespace dray::core {
namespace {

template <typename TimePoint>
TimePoint after(TimePoint now, double seconds) {
  if (seconds <= 0) return TimePoint::max();
  return now + std::chrono::duration_cast<typename TimePoint::duration>(std::chrono::duration<double>(seconds));
}

}  // namespace

// The pipeline's view of one running job. The worker thread that runs the job is the only
// caller; the entry in running_ outlives it (erased after the pipeline returned).
class JobRunner::ActiveJobControl final : public JobControl {
 public:
  ActiveJobControl(JobRunner& runner, const std::string& id) : runner_(runner), id_(id) {}

  std::stop_token stopToken() const override {
    std::lock_guard lock(runner_.mutex_);
    return runner_.running_.at(id_).stop.get_token();
  }

  std::stop_token attemptStarted(double timeout) override {
    std::stop_token token;
    {
      std::lock_guard lock(runner_.mutex_);
      Active& active = runner_.running_.at(id_);
      active.attempt_follows_job.reset();  // before its source is replaced
      active.attempt = std::stop_source();
      active.attempt_timed_out.reset();
      // Runs on the thread that stops the job (never under the lock): the attempt stops too.
      active.attempt_follows_job = std::make_unique<std::stop_callback<std::function<void()>>>(
          active.stop.get_token(), [attempt = active.attempt]() mutable { attempt.request_stop(); });
      active.step_timeout = timeout;
      active.step_deadline = after(Clock::now(), timeout);
      token = active.attempt.get_token();
    }
    runner_.wake_.notify_all();  // the watchdog learns the new deadline
    return token;
  }

  std::optional<StopReason> stopReason() const override {
    std::lock_guard lock(runner_.mutex_);
    return runner_.running_.at(id_).stopped;
  }

  std::optional<std::string> attemptTimedOut() const override {
    std::lock_guard lock(runner_.mutex_);
    return runner_.running_.at(id_).attempt_timed_out;
  }

 private:
  JobRunner& runner_;
  const std::string& id_;
};

JobRunner::JobRunner(sdk::Storage& storage, std::shared_ptr<sdk::Runtime> runtime, RunnerOptions options)
    : storage_(storage), options_(std::move(options)), executor_(std::move(runtime), storage_, options_.instance),
      pipeline_(storage_, executor_, metrics_,
                {options_.spool_memory, options_.log_limit, options_.job_log_limit, options_.output_limit,
                 options_.stream_buffer, options_.stream_drain}),
      held_(options_.held) {
  // spdlog builds its registry on first use: do it here, before the threads that log, so
  // the construction happens-before every use (libspdlog is not instrumented for TSan).
  spdlog::default_logger_raw();
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
    queued_ids_.insert(job.id);
    queue_.push_back(std::move(job));
  }
  wake_.notify_all();
}

bool JobRunner::cancel(const std::string& id) {
  std::unique_lock lock(mutex_);
  if (auto it = running_.find(id); it != running_.end()) {
    auto source = stopLocked(it->second, "canceled", Status::kCanceled);
    lock.unlock();
    source.request_stop();  // outside the lock: stop callbacks run on this thread
    return true;
  }
  std::optional<ResolvedJob> job = takeQueuedLocked(id);
  if (!job) return false;
  lock.unlock();
  changed_.notify_all();
  JobLogger(storage_, id).warn("canceled before it started");
  finishJob(*job, Status::kCanceled);
  return true;
}

void JobRunner::stopRunning(const std::string& reason) {
  std::vector<std::stop_source> to_stop;
  {
    std::lock_guard lock(mutex_);
    for (auto& [id, active] : running_) to_stop.push_back(stopLocked(active, reason, Status::kError));
  }
  for (auto& source : to_stop) source.request_stop();  // outside the lock: callbacks run here
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
  return changed_.wait_for(lock, timeout, [&] { return !running_.count(id) && !queued_ids_.count(id); });
}

std::optional<RunState> JobRunner::state(const std::string& id) const {
  std::lock_guard lock(mutex_);
  if (running_.count(id)) return RunState::kRunning;
  if (queued_ids_.count(id)) return RunState::kQueued;  // a set: GET /jobs/{id} never scans the queue
  return std::nullopt;
}

std::deque<ResolvedJob>::const_iterator JobRunner::findQueuedLocked(const std::string& id) const {
  return std::find_if(queue_.begin(), queue_.end(), [&](const ResolvedJob& job) { return job.id == id; });
}

std::optional<ResolvedJob> JobRunner::takeQueuedLocked(const std::string& id) {
  auto queued = findQueuedLocked(id);
  if (queued == queue_.end()) return std::nullopt;
  const auto index = queued - queue_.cbegin();
  ResolvedJob job = std::move(queue_[static_cast<std::size_t>(index)]);
  queued_ids_.erase(id);
  queue_.erase(queue_.begin() + index);
  return job;
}

void JobRunner::shutdown(std::chrono::milliseconds grace) {
  std::deque<ResolvedJob> abandoned;
  {
    std::lock_guard lock(mutex_);
    if (stopped_) return;
    stopping_ = true;
    abandoned.swap(queue_);
    queued_ids_.clear();
  }
  wake_.notify_all();
  changed_.notify_all();
  for (const auto& job : abandoned) {
    JobLogger(storage_, job.id).error("not run: dray shut down before the job started");
    finishJob(job, Status::kError);
  }
  std::vector<std::stop_source> to_stop;
  {
    std::unique_lock lock(mutex_);
    if (!changed_.wait_for(lock, grace, [this] { return running_.empty(); })) {
      for (auto& [id, active] : running_) {
        to_stop.push_back(stopLocked(active, "interrupted: dray shut down before the job finished", Status::kError));
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

bool JobRunner::withdraw(const std::string& id) {
  std::unique_lock lock(mutex_);
  if (!takeQueuedLocked(id)) return false;
  lock.unlock();
  changed_.notify_all();
  return true;
}

std::size_t JobRunner::idleWorkers() const {
  std::lock_guard lock(mutex_);
  const std::size_t busy = running_.size() + queue_.size();
  return busy >= options_.workers ? 0 : options_.workers - busy;
}

std::size_t JobRunner::queued() const {
  std::lock_guard lock(mutex_);
  return queue_.size();
}

std::size_t JobRunner::running() const {
  std::lock_guard lock(mutex_);
  return running_.size();
}

std::stop_source JobRunner::stopLocked(Active& active, std::string reason, Status status) {
  if (active.stopped) return std::stop_source(std::nostopstate);  // the first reason wins
  active.stopped = StopReason{std::move(reason), status};
  return active.stop;  // the caller requests the stop once the lock is released
}

void JobRunner::watchdogLoop() {
  std::unique_lock lock(mutex_);
  while (!stopped_) {
    const auto now = Clock::now();
    auto next = now + std::chrono::seconds(1);
    std::vector<std::stop_source> to_stop;
    for (auto& [id, active] : running_) {
      if (active.stopped) continue;
      if (now >= active.job_deadline) {
        to_stop.push_back(stopLocked(
            active, "job deadline of " + describeSeconds(active.job_deadline_seconds) + " passed", Status::kError));
      } else if (now >= active.step_deadline) {
        // Only the attempt: a step with retries left tries again.
        active.attempt_timed_out = "timed out after " + describeSeconds(active.step_timeout);
        active.step_deadline = Clock::time_point::max();
        to_stop.push_back(active.attempt);
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
      queued_ids_.erase(job.id);
      Active& active = running_[job.id];
      active.job_deadline_seconds = job.deadline;
      active.job_deadline = after(Clock::now(), job.deadline);
    }
    wake_.notify_all();  // the watchdog learns the new deadline
    spdlog::debug("job {}: taken by a worker {:.2f} ms after it was accepted", job.id,
                  millisecondsSince(job.accepted_at));
    try {
      ActiveJobControl control(*this, job.id);
      finishJob(job, pipeline_.run(job, control));
    } catch (const std::exception& e) {
      // Storage trouble must not kill a worker; the job is reported as failed if possible.
      spdlog::error("job {}: {}", job.id, e.what());
      finishJob(job, Status::kError);
    }
    storage_.forget(job.id);
    {
      std::lock_guard lock(mutex_);
      running_.erase(job.id);
    }
    changed_.notify_all();
  }
}

void JobRunner::finishJob(const ResolvedJob& job, Status status) {
  const std::string& id = job.id;
  metrics_.jobFinished(status);
  try {
    storage_.flush();
    storage_.setTimes(id, "", nowRfc3339());
    storage_.setStatus(id, std::string(toString(status)));
    if (options_.on_finished) storage_.flush();  // the listener reads the final record
  } catch (const std::exception& e) {
    spdlog::error("job {}: cannot record status {}: {}", id, toString(status), e.what());
  }
  if (options_.on_finished) options_.on_finished(job, status);
}

}  // namespace dray::core

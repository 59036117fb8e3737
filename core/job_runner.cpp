#include "job_runner.hpp"

#include <spdlog/spdlog.h>

#include "job_log.hpp"

namespace dray::core {
namespace {

std::string describeStep(const ResolvedStep& step) {
  std::string text = "step " + std::to_string(step.spec.index + 1);
  if (!step.spec.name.empty()) text += " \"" + step.spec.name + "\"";
  return text + " (" + step.spec.image + ")";
}

}  // namespace

JobRunner::JobRunner(sdk::Storage& storage, sdk::Runtime& runtime, unsigned workers, std::size_t spool_memory)
    : storage_(storage), executor_(runtime, storage), spool_memory_(spool_memory) {
  for (unsigned i = 0; i < workers; ++i) workers_.emplace_back([this] { workerLoop(); });
}

JobRunner::~JobRunner() { shutdown(); }

void JobRunner::submit(ResolvedJob job) {
  {
    std::lock_guard lock(mutex_);
    if (stopping_) throw std::runtime_error("dray is shutting down and takes no new jobs");
    queue_.push_back(std::move(job));
  }
  wake_.notify_one();
}

bool JobRunner::cancel(const std::string& id) {
  std::lock_guard lock(mutex_);
  auto it = running_.find(id);
  if (it == running_.end()) return false;
  it->second.request_stop();
  return true;
}

void JobRunner::shutdown() {
  std::deque<ResolvedJob> abandoned;
  {
    std::lock_guard lock(mutex_);
    if (stopping_ && workers_.empty()) return;
    stopping_ = true;
    abandoned.swap(queue_);
    for (auto& [id, source] : running_) source.request_stop();
  }
  wake_.notify_all();
  for (const auto& job : abandoned) {
    JobLogger(storage_, job.id).error("job not run: dray shut down before it started");
    finishJob(job.id, sdk::kStatusError);
  }
  for (auto& worker : workers_) {
    if (worker.joinable()) worker.join();
  }
  workers_.clear();
}

std::size_t JobRunner::queued() const {
  std::lock_guard lock(mutex_);
  return queue_.size();
}

std::size_t JobRunner::running() const {
  std::lock_guard lock(mutex_);
  return running_.size();
}

void JobRunner::workerLoop() {
  for (;;) {
    ResolvedJob job;
    std::stop_token stop;
    {
      std::unique_lock lock(mutex_);
      wake_.wait(lock, [this] { return stopping_ || !queue_.empty(); });
      if (stopping_) return;
      job = std::move(queue_.front());
      queue_.pop_front();
      stop = running_[job.id].get_token();
    }
    try {
      execute(job, stop);
    } catch (const std::exception& e) {
      // Storage trouble must not kill a worker; the job is reported as failed if possible.
      spdlog::error("job {}: {}", job.id, e.what());
      finishJob(job.id, sdk::kStatusError);
    }
    std::lock_guard lock(mutex_);
    running_.erase(job.id);
  }
}

void JobRunner::execute(const ResolvedJob& job, std::stop_token stop) {
  JobLogger job_log(storage_, job.id);
  spdlog::info("job {}: started ({} steps)", job.id, job.steps.size());
  // The previous step's spool stays alive while the next step reads from it.
  std::unique_ptr<Spool> previous;
  std::unique_ptr<sdk::ByteSource> input = std::make_unique<EmptySource>();
  for (const auto& step : job.steps) {
    auto output = std::make_unique<Spool>(spool_memory_);
    std::string failure;
    try {
      int exit_code = executor_.run(step, *input, *output, stop);
      if (exit_code != 0) failure = "exited with code " + std::to_string(exit_code);
    } catch (const std::exception& e) {
      failure = e.what();
    }
    if (failure.empty() && stop.stop_requested()) failure = "canceled";
    if (!failure.empty()) {
      job_log.error(describeStep(step) + " failed: " + failure + "; later steps not run");
      spdlog::warn("job {}: {} failed: {}", job.id, describeStep(step), failure);
      finishJob(job.id, sdk::kStatusError);
      return;
    }
    storage_.setCompletedSteps(job.id, step.spec.index + 1);
    input = output->reader();
    previous = std::move(output);
  }
  spdlog::info("job {}: complete", job.id);
  finishJob(job.id, sdk::kStatusComplete);
}

void JobRunner::finishJob(const std::string& id, const char* status) {
  try {
    storage_.flush();
    storage_.setStatus(id, status);
  } catch (const std::exception& e) {
    spdlog::error("job {}: cannot record status {}: {}", id, status, e.what());
  }
}

}  // namespace dray::core

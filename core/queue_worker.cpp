#include "core/queue_worker.hpp"

#include <set>

#include <Poco/JSON/Parser.h>

#include "core/errors.hpp"
#include "core/job_codec.hpp"
#include "core/job_log.hpp"
#include "core/job_state.hpp"
#include "core/metrics.hpp"
#include "core/recovery.hpp"

namespace dray::core {
namespace {

using Clock = std::chrono::steady_clock;
constexpr const char* kCancel = "cancel ";

// The job as stored (the 201 echo), or null when it is not a JSON object.
Poco::JSON::Object::Ptr descriptionOf(const sdk::JobRecord& record) {
  try {
    return Poco::JSON::Parser().parse(record.description).extract<Poco::JSON::Object::Ptr>();
  } catch (const std::exception&) {
    return nullptr;
  }
}

// The job's `callback` from its stored description, when it can be sent: one with a secret
// cannot (storage has "***"), and goes unsent.
std::optional<WebhookTarget> storedCallback(const sdk::JobRecord& record) {
  const auto job = descriptionOf(record);
  const auto callback = job ? job->getObject("callback") : nullptr;
  if (!callback || callback->has("secret") || !callback->has("url")) return std::nullopt;
  return WebhookTarget{callback->getValue<std::string>("url"), ""};
}

// Whether a job was kept out of the shared queue: it carries secrets (or a callback secret),
// whose values only the node that accepted it holds (storage has "***").
bool keptByItsNode(const sdk::JobRecord& record) {
  const auto job = descriptionOf(record);
  if (!job) return false;
  const auto secrets = job->getArray("secrets");
  const auto callback = job->getObject("callback");
  return (secrets && secrets->size() > 0) || (callback && callback->has("secret"));
}

}  // namespace

QueueWorker::QueueWorker(sdk::Storage& storage, sdk::WorkQueue& queue, sdk::NodeRegistry& nodes, JobRunner& runner,
                         ResolveStored resolve, QueueWorkerOptions options, sdk::Logger& logger)
    : storage_(storage), queue_(queue), nodes_(nodes), runner_(runner), resolve_(std::move(resolve)),
      options_(std::move(options)), logger_(logger) {
  taker_ = std::thread([this] { takeLoop(); });
  listener_ = std::thread([this] { listenLoop(); });
}

QueueWorker::~QueueWorker() { stop(); }

void QueueWorker::stop() {
  {
    std::lock_guard lock(mutex_);
    if (stopping_) return;
    stopping_ = true;
  }
  wake_.notify_all();
  taker_.join();
  listener_.join();
  fenced();  // what was taken and not started goes back
}

void QueueWorker::start() {
  {
    std::lock_guard lock(mutex_);
    started_ = true;
    readopt_ = true;
  }
  wake_.notify_all();
}

void QueueWorker::finished(const std::string& job_id) {
  std::string entry;
  {
    std::lock_guard lock(mutex_);
    auto it = entries_.find(job_id);
    if (it == entries_.end()) return;
    entry = it->second;
    entries_.erase(it);
  }
  wake_.notify_all();  // a worker is free
  acknowledge(entry);
}

void QueueWorker::acknowledge(const std::string& entry_id) {
  try {
    queue_.acknowledge(entry_id);
  } catch (const std::exception& e) {
    // It stays pending for this node: the next start (or a take-over) finds the job ended.
    logger_.warn("queue: could not acknowledge entry " + entry_id + ": " + e.what());
  }
}

void QueueWorker::fenced() {
  std::lock_guard lock(mutex_);
  fenced_ = true;
  for (auto it = entries_.begin(); it != entries_.end();) {
    // Not started yet: give it back (the stopped running ones end by the runner).
    it = runner_.withdraw(it->first) ? entries_.erase(it) : std::next(it);
  }
}

void QueueWorker::regained() {
  {
    std::lock_guard lock(mutex_);
    fenced_ = false;
    readopt_ = true;
  }
  wake_.notify_all();
}

void QueueWorker::takeLoop() {
  auto next_look = Clock::now() + options_.ttl / 3;
  std::unique_lock lock(mutex_);
  while (!stopping_) {
    if (!started_ || fenced_) {
      wake_.wait_for(lock, options_.wait);
      continue;
    }
    const bool readopt = std::exchange(readopt_, false);
    lock.unlock();
    try {
      if (readopt) adoptOwnPending();
      const std::size_t idle = runner_.idleWorkers();
      if (idle > 0) {
        for (const auto& entry : queue_.take(options_.node, idle, options_.wait)) adopt(entry, "");
      } else {
        std::unique_lock idle_lock(mutex_);
        if (!stopping_) wake_.wait_for(idle_lock, std::chrono::milliseconds(200));  // finished() wakes it
      }
      if (Clock::now() >= next_look) {
        next_look = Clock::now() + options_.ttl / 3;
        takeOverLostNodes();
        // Entries this node holds but nothing here runs (a reply lost on its way, a batch cut
        // short by an error, entries claimed here): settled now rather than never.
        adoptOwnPending();
      }
    } catch (const std::exception& e) {
      logger_.warn(std::string("queue: ") + e.what() + " (trying again in a second)");
      std::this_thread::sleep_for(std::chrono::seconds(1));
      std::lock_guard again(mutex_);
      readopt_ = true;
    }
    lock.lock();
  }
}

void QueueWorker::listenLoop() {
  std::string cursor;
  std::unique_lock lock(mutex_);
  while (!stopping_) {
    lock.unlock();
    try {
      for (const auto& message : queue_.receive(options_.node, cursor, options_.wait)) {
        if (message.text.rfind(kCancel, 0) != 0) continue;
        const std::string id = message.text.substr(std::string(kCancel).size());
        // The whole cancel path: also a job between being taken and being queued here, one
        // given back on a fence, or one that moved to yet another node.
        if (cancel(id)) logger_.info("queue: job " + id + " canceled at another node's request");
      }
    } catch (const std::exception& e) {
      logger_.warn(std::string("queue: cannot read this node's messages: ") + e.what());
      std::this_thread::sleep_for(std::chrono::seconds(1));
    }
    lock.lock();
  }
}

std::set<std::string> QueueWorker::pendingJobIds() {
  std::set<std::string> ids;
  for (const auto& entry : queue_.pending(options_.node)) ids.insert(entry.job_id);
  return ids;
}

void QueueWorker::adoptOwnPending() {
  for (const auto& entry : queue_.pending(options_.node)) {
    {
      std::lock_guard lock(mutex_);
      if (entries_.count(entry.job_id)) continue;  // given to the runner already
    }
    adopt(entry, "");
  }
}

void QueueWorker::adopt(const sdk::QueueEntry& entry, const std::string& lost_from) {
  std::lock_guard adopting(adopt_mutex_);
  const auto record = entry.job_id.empty() ? std::nullopt : storage_.getJob(entry.job_id);
  if (!record || isFinal(record->status)) return acknowledge(entry.entry_id);
  const std::string& id = record->id;
  if (runner_.state(id)) return;  // this runner has it already
  // A job that started on a node that is not running it now: one that was lost, or this
  // node before a restart or a fence. It ends `error`, or runs again if it asked for that.
  const auto interrupted = [&](const std::string& why, const std::string& not_rerun) {
    bool rerun = false;
    try {
      rerun = decodeJob(record->description).definition.rerun_on_node_loss;
    } catch (const std::exception&) {
      // not decodable: not run again
    }
    if (!rerun) {
      endUnrun(*record, sdk::kStatusError, why + not_rerun);
      acknowledge(entry.entry_id);
      return false;
    }
    resetForRerun(*record, why + "; running it again from step 0 on node " + options_.node);
    return true;
  };
  if (!lost_from.empty() && record->owner == lost_from) {
    if (!queue_.transfer(id, lost_from, options_.node)) return acknowledge(entry.entry_id);
    if (!record->started_at.empty() && !interrupted("node " + lost_from + " was lost while this job was running", ""))
      return;
  } else if (!queue_.reserve(id, options_.node)) {
    return acknowledge(entry.entry_id);  // another node owns it (it was canceled there)
  } else if (!record->started_at.empty() && !interrupted(kInterruptedLine, "; it was not resumed")) {
    return;
  }
  ResolvedJob job;
  try {
    job = resolve_(*record);
  } catch (const std::exception& e) {
    endUnrun(*record, sdk::kStatusError, "node " + options_.node + " cannot run this job: " + e.what());
    return acknowledge(entry.entry_id);
  }
  {
    std::lock_guard lock(mutex_);
    // Fenced meanwhile: another node may take this entry over now; it stays pending here and
    // is settled again when the lease is back.
    if (fenced_ || stopping_) return;
    entries_[id] = entry.entry_id;
  }
  try {
    runner_.submit(std::move(job));
  } catch (const std::exception& e) {
    {
      std::lock_guard lock(mutex_);
      entries_.erase(id);
    }
    endUnrun(*record, sdk::kStatusError, "node " + options_.node + " could not queue this job: " + e.what());
    acknowledge(entry.entry_id);
  }
}

std::set<std::string> QueueWorker::liveNodes() {
  std::set<std::string> live;
  for (const auto& [name, info] : nodes_.list()) live.insert(name);
  return live;
}

void QueueWorker::takeOverLostNodes() {
  const std::set<std::string> live = liveNodes();
  const auto now = Clock::now();
  // A node's lease ending is not enough: its fence may still be stopping its jobs. One more
  // look, a third of the ttl (and at least two seconds) later, must find it gone too.
  const auto margin = std::max<std::chrono::milliseconds>(options_.ttl / 3, std::chrono::seconds(2));
  for (const auto& node : queue_.consumers()) {
    if (node == options_.node || live.count(node)) {
      missing_since_.erase(node);
      continue;
    }
    auto [seen, first] = missing_since_.try_emplace(node, now);
    if (first || now - seen->second < margin) continue;
    // Entries moved (or delivered) less than `margin` ago stay: another survivor has them.
    const auto entries = queue_.claim(node, options_.node, margin);
    if (!entries.empty()) {
      logger_.warn("queue: node " + node + " is gone (no lease): taking over its " + std::to_string(entries.size()) +
                   " jobs");
    }
    for (const auto& entry : entries) adopt(entry, node);
    endJobsKeptBy(node);
    queue_.forget(node);
    missing_since_.erase(node);
  }
}

void QueueWorker::endJobsKeptBy(const std::string& lost) {
  // Jobs with secrets never went through the queue: they ran, or waited, on the lost node
  // alone, and cannot run elsewhere (only that process had the values).
  for (const auto& id : storage_.listJobs()) {
    const auto record = storage_.getJob(id);
    if (!record || record->owner != lost || isFinal(record->status) || !keptByItsNode(*record)) continue;
    std::lock_guard adopting(adopt_mutex_);
    if (!queue_.transfer(id, lost, options_.node)) continue;
    endUnrun(*record, sdk::kStatusError,
             "node " + lost + " was lost while this job was " + (record->started_at.empty() ? "waiting" : "running") +
                 " (a job with secrets runs only on the node that accepted it)");
  }
}

bool QueueWorker::cancel(const std::string& job_id) {
  std::lock_guard adopting(adopt_mutex_);
  if (runner_.cancel(job_id)) return true;
  const auto record = storage_.getJob(job_id);
  if (!record || isFinal(record->status)) return false;
  if (queue_.reserve(job_id, options_.node)) {
    // Still waiting in the queue (or this node's, not started): it ends here, and the node
    // that takes its entry finds it ended.
    if (runner_.cancel(job_id)) return true;
    endUnrun(*record, sdk::kStatusCanceled, "canceled before it started");
    return true;
  }
  if (!liveNodes().count(record->owner) && queue_.transfer(job_id, record->owner, options_.node)) {
    // Its node is gone: nobody would read the message. It ends here; its take-over finds it ended.
    endUnrun(*record, sdk::kStatusCanceled, "canceled while its node " + record->owner + " was gone");
    return true;
  }
  queue_.send(record->owner, kCancel + job_id);
  return true;
}

void QueueWorker::endUnrun(const sdk::JobRecord& record, const std::string& status, const std::string& line) {
  JobLogger logger(storage_, record.id);
  if (status == sdk::kStatusError) {
    logger.error(line);
  } else {
    logger.warn(line);
  }
  for (std::size_t i = 0; i < record.steps.size(); ++i) {
    sdk::StepRecord step = record.steps[i];
    if (step.state != sdk::kStatusRunning) continue;  // pending steps stay pending: they never ran
    step.state = status;
    storage_.setStep(record.id, i, step);
  }
  storage_.setTimes(record.id, record.started_at, nowRfc3339());
  storage_.flush();
  storage_.setStatus(record.id, status);
  storage_.flush();
  if (options_.on_ended) options_.on_ended(record.id, storedCallback(record));
}

void QueueWorker::resetForRerun(const sdk::JobRecord& record, const std::string& line) {
  JobLogger(storage_, record.id).warn(line);
  for (std::size_t i = 0; i < record.steps.size(); ++i) {
    sdk::StepRecord step{record.steps[i].name, record.steps[i].image, "pending", -1, "", ""};
    storage_.setStep(record.id, i, step);
  }
  storage_.setCompletedSteps(record.id, 0);
  storage_.setTimes(record.id, "", "");
  storage_.flush();
}

}  // namespace dray::core

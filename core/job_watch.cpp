#include "core/job_watch.hpp"

#include <utility>
#include <vector>

namespace dray::core {
namespace {

using Clock = std::chrono::steady_clock;
using Wakers = std::vector<std::shared_ptr<const JobWatch::Waker>>;

// Runs wakers outside the lock: a waker may take other locks (the HTTP front's).
void wakeAll(const Wakers& wakers, const std::string& id, sdk::JobChange change) {
  for (const auto& waker : wakers) (*waker)(id, change);
}

}  // namespace

JobWatch::Subscription& JobWatch::Subscription::operator=(Subscription&& other) noexcept {
  if (this != &other) {
    reset();
    watch_ = other.watch_;
    key_ = other.key_;
    other.watch_ = nullptr;
  }
  return *this;
}

void JobWatch::Subscription::reset() {
  if (watch_) watch_->unwatch(key_);
  watch_ = nullptr;
}

void JobWatch::Subscription::wakeAt(Clock::time_point when) {
  if (watch_) watch_->setDeadline(key_, when);
}

void JobWatch::Subscription::countAs(std::size_t watchers) {
  if (watch_) watch_->setCount(key_, watchers);
}

JobWatch::JobWatch(sdk::Storage& storage, JobWatchOptions options) : options_(options), storage_(storage) {
  pushed_ = storage_.watchChanges([weak = std::weak_ptr<State>(state_)](const std::string& id, sdk::JobChange change) {
    if (auto state = weak.lock()) state->changed(id, change);
  });
  timer_ = std::thread([this] { timerLoop(); });
}

JobWatch::~JobWatch() {
  storage_.watchChanges({});
  {
    std::lock_guard lock(state_->mutex);
    state_->stopping = true;
  }
  state_->timer_wake.notify_all();
  timer_.join();
}

JobWatch::Subscription JobWatch::watch(const std::string& id, Waker waker, bool heartbeat) {
  std::lock_guard lock(state_->mutex);
  const std::uint64_t key = state_->next_key++;
  state_->entries.emplace(key, Entry{id, std::make_shared<const Waker>(std::move(waker)), heartbeat});
  state_->by_job.emplace(id, key);
  return Subscription(this, key);
}

std::size_t JobWatch::watchers() const {
  std::lock_guard lock(state_->mutex);
  std::size_t count = 0;
  for (const auto& [key, entry] : state_->entries) count += entry.count;
  return count;
}

void JobWatch::setCount(std::uint64_t key, std::size_t count) {
  std::lock_guard lock(state_->mutex);
  if (auto it = state_->entries.find(key); it != state_->entries.end()) it->second.count = count;
}

void JobWatch::unwatch(std::uint64_t key) {
  std::lock_guard lock(state_->mutex);
  auto it = state_->entries.find(key);
  if (it == state_->entries.end()) return;
  auto [first, last] = state_->by_job.equal_range(it->second.id);
  for (auto at = first; at != last; ++at) {
    if (at->second == key) {
      state_->by_job.erase(at);
      break;
    }
  }
  state_->entries.erase(it);
}

void JobWatch::setDeadline(std::uint64_t key, Clock::time_point when) {
  {
    std::lock_guard lock(state_->mutex);
    auto it = state_->entries.find(key);
    if (it == state_->entries.end()) return;
    it->second.deadline = when;
  }
  state_->timer_wake.notify_all();
}

namespace {

// How much a notice says: a removal outweighs a record change, which covers new lines.
int weight(sdk::JobChange change) {
  switch (change) {
    case sdk::JobChange::kLog:
      return 0;
    case sdk::JobChange::kRecord:
      return 1;
    case sdk::JobChange::kRemoved:
      return 2;
    case sdk::JobChange::kResync:
      return 3;
  }
  return 3;
}

}  // namespace

// On the storage's thread (often a job's runner): only queues the notice.
void JobWatch::State::changed(const std::string& id, sdk::JobChange change) {
  {
    std::lock_guard lock(mutex);
    if (change == sdk::JobChange::kResync) {
      resync = true;
    } else if (auto it = notice_index.find(id); it != notice_index.end()) {
      auto& queued = notices[it->second].second;
      if (weight(change) > weight(queued)) queued = change;
    } else {
      notice_index.emplace(id, notices.size());
      notices.emplace_back(id, change);
    }
  }
  timer_wake.notify_one();
}

// Tells the queued notices to their watchers, outside the lock (a waker may take other
// locks, the HTTP front's).
void JobWatch::tellNotices(State& state, std::unique_lock<std::mutex>& lock) {
  std::vector<std::pair<std::string, sdk::JobChange>> notices;
  notices.swap(state.notices);
  state.notice_index.clear();
  const bool resync = std::exchange(state.resync, false);
  std::vector<std::pair<Wakers, std::pair<std::string, sdk::JobChange>>> told;
  if (resync) {
    Wakers all;
    for (const auto& [key, entry] : state.entries) all.push_back(entry.waker);
    told.push_back({std::move(all), {"", sdk::JobChange::kResync}});
  }
  for (auto& notice : notices) {
    Wakers wakers;
    for (const std::string& target : {notice.first, std::string()}) {
      auto [first, last] = state.by_job.equal_range(target);
      for (auto at = first; at != last; ++at) wakers.push_back(state.entries.at(at->second).waker);
    }
    if (!wakers.empty()) told.push_back({std::move(wakers), std::move(notice)});
  }
  if (told.empty()) return;
  lock.unlock();
  for (const auto& [wakers, notice] : told) wakeAll(wakers, notice.first, notice.second);
  lock.lock();
}

void JobWatch::timerLoop() {
  State& state = *state_;
  auto next_heartbeat = Clock::now() + options_.heartbeat;
  auto next_poll = Clock::now() + options_.poll_interval;
  std::unique_lock lock(state.mutex);
  while (!state.stopping) {
    auto until = next_heartbeat;
    if (!pushed_) until = std::min(until, next_poll);
    for (const auto& [key, entry] : state.entries) until = std::min(until, entry.deadline);
    // Any notify ends the wait: a notice, or a new deadline that may come before `until`.
    if (state.notices.empty() && !state.resync) state.timer_wake.wait_until(lock, until);
    if (state.stopping) break;
    tellNotices(state, lock);
    if (state.stopping) break;
    const auto now = Clock::now();
    Wakers wakers;
    const bool beat = now >= next_heartbeat;
    const bool poll = !pushed_ && now >= next_poll;
    if (beat) next_heartbeat = now + options_.heartbeat;
    if (poll) next_poll = now + options_.poll_interval;
    for (auto& [key, entry] : state.entries) {
      const bool due = entry.deadline <= now;
      if (due) entry.deadline = Clock::time_point::max();
      if (due || poll || (beat && entry.heartbeat)) wakers.push_back(entry.waker);
    }
    if (wakers.empty()) continue;
    lock.unlock();
    // A tick is told as a change of no job in particular; polling as a resync.
    wakeAll(wakers, "", poll ? sdk::JobChange::kResync : sdk::JobChange::kRecord);
    lock.lock();
  }
}

}  // namespace dray::core

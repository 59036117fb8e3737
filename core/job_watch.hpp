#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <unordered_map>

#include "dray/sdk/storage.hpp"

namespace dray::core {

struct JobWatchOptions {
  /// Every watcher that asked for it is woken this often (live streams send a heartbeat).
  std::chrono::milliseconds heartbeat{std::chrono::seconds(15)};
  /// With a storage that cannot tell changes, every watcher is woken this often instead.
  std::chrono::milliseconds poll_interval{250};
};

/// Wakes whoever waits on jobs (live event streams, long-polls) when storage says a job
/// changed, at a deadline, and on a heartbeat. Waiting costs no thread: a watcher is a
/// callback, run on the watch's own thread, that must only schedule work (it must be quick
/// and must not call storage). Storage's notices are queued and told from that thread, so
/// the writer that caused them (a job's runner) never waits for the watchers; notices of
/// one job that pile up meanwhile are told once. Registers itself as the storage's change
/// watcher (and unregisters when destroyed). Subscriptions must be gone before the watch.
/// Thread-safe.
class JobWatch {
 public:
  /// Which job changed and how. The id is "" for JobChange::kResync (polling included) and
  /// for a timer (a heartbeat or a deadline), which comes as kRecord.
  using Waker = std::function<void(const std::string& id, sdk::JobChange change)>;

  /// Unregisters on destruction; after that its waker is never called again.
  class Subscription {
   public:
    Subscription() = default;
    Subscription(Subscription&& other) noexcept { *this = std::move(other); }
    Subscription& operator=(Subscription&& other) noexcept;
    ~Subscription() { reset(); }
    void reset();
    /// Wakes this watcher once at `when` (replacing an earlier deadline).
    void wakeAt(std::chrono::steady_clock::time_point when);
    /// How many watchers this one stands for in watchers() (1 by default): a watcher that
    /// passes its wake-ups on to others counts them.
    void countAs(std::size_t watchers);

   private:
    friend class JobWatch;
    Subscription(JobWatch* watch, std::uint64_t key) : watch_(watch), key_(key) {}
    JobWatch* watch_ = nullptr;
    std::uint64_t key_ = 0;
  };

  JobWatch(sdk::Storage& storage, JobWatchOptions options = {});
  ~JobWatch();
  JobWatch(const JobWatch&) = delete;
  JobWatch& operator=(const JobWatch&) = delete;

  /// Calls `waker` after every change of job `id` ("" for every job). With `heartbeat` it is
  /// also called every JobWatchOptions::heartbeat. The watch must outlive the subscription.
  [[nodiscard]] Subscription watch(const std::string& id, Waker waker, bool heartbeat = false);

  /// Whether storage tells changes (false: watchers are woken by polling).
  bool pushed() const { return pushed_; }
  /// Watchers now (as counted by Subscription::countAs), for /metrics.
  std::size_t watchers() const;

 private:
  struct Entry {
    std::string id;
    std::shared_ptr<const Waker> waker;
    bool heartbeat = false;
    std::size_t count = 1;
    std::chrono::steady_clock::time_point deadline = std::chrono::steady_clock::time_point::max();
  };
  // Shared with the storage's watcher, which may still run (on a storage thread) while
  // this watch goes away: it holds the state only as long as it uses it.
  struct State {
    mutable std::mutex mutex;
    std::condition_variable timer_wake;
    std::uint64_t next_key = 1;
    std::map<std::uint64_t, Entry> entries;
    std::unordered_multimap<std::string, std::uint64_t> by_job;  // "" = every job
    // Notices not yet told, in arrival order; one per job (the strongest kind wins).
    std::vector<std::pair<std::string, sdk::JobChange>> notices;
    std::unordered_map<std::string, std::size_t> notice_index;  // job id -> place in notices
    bool resync = false;
    bool stopping = false;

    void changed(const std::string& id, sdk::JobChange change);
  };

  void unwatch(std::uint64_t key);
  void setDeadline(std::uint64_t key, std::chrono::steady_clock::time_point when);
  void setCount(std::uint64_t key, std::size_t count);
  void timerLoop();
  static void tellNotices(State& state, std::unique_lock<std::mutex>& lock);

  const JobWatchOptions options_;
  sdk::Storage& storage_;
  std::shared_ptr<State> state_ = std::make_shared<State>();
  bool pushed_ = false;
  std::thread timer_;
};

}  // namespace dray::core

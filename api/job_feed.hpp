#pragma once

#include <atomic>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include "core/job_service.hpp"
#include "core/job_watch.hpp"

namespace dray::api {

class JobFeeds;

/// One job's storage reads and change notices, shared by everyone who follows the job (its
/// event streams). However many follow it, storage is read about once per change, and the
/// job's notices come from one JobWatch subscription and are passed on to each follower.
///
/// Nothing a follower gets is older than what it would have read itself: a cached read is
/// reused only if it started after the last notice of the job that the follower could have
/// been woken by. Each read is stamped with a sequence number, so that a follower can ask
/// for a record read after the log page it holds, or a page read after the record that
/// said the job had ended: the order its events rely on. Thread-safe.
class JobFeed : public std::enable_shared_from_this<JobFeed> {
 public:
  using Follower = std::function<void(const std::string& id, sdk::JobChange change)>;

  struct Page {
    std::vector<std::string> lines;
    bool at_end = false;     ///< there were no more lines when it was read
    std::uint64_t read = 0;  ///< when it was read, among this feed's reads
  };
  /// Texts made from one record, shared by the followers that got that record: an event
  /// rendered from the same record is the same text for each of them. Thread-safe.
  class Texts {
   public:
    /// The text under `key`, made by `render` the first time it is asked for.
    const std::string& get(const std::string& key, const std::function<std::string()>& render);

   private:
    std::mutex mutex_;
    std::unordered_map<std::string, std::string> texts_;
  };
  struct Record {
    std::shared_ptr<const core::JobView> job;  ///< null: the job is gone
    std::uint64_t read = 0;
    std::shared_ptr<Texts> texts;  ///< for events rendered from `job`
  };

  JobFeed(core::JobService& service, std::string id, std::shared_ptr<JobFeeds> feeds);
  ~JobFeed();
  JobFeed(const JobFeed&) = delete;
  JobFeed& operator=(const JobFeed&) = delete;

  /// At most `max` log lines from index `from`. A page that reaches the end of the log was
  /// read after read number `after`.
  Page logPage(std::size_t from, std::size_t max, std::uint64_t after);
  /// The record, read after read number `after`.
  Record record(std::uint64_t after);

  /// Passes the job's notices, and heartbeats ("" with kRecord), on to `follower`. It must
  /// be quick and must not call storage. Returns the key for leave().
  std::uint64_t join(Follower follower);
  void leave(std::uint64_t key);

 private:
  friend class JobFeeds;
  void changed(const std::string& id, sdk::JobChange change);
  Page directPage(std::size_t from, std::size_t max);
  Page pageFromRing(std::size_t from, std::size_t max, bool at_end) const;
  void readOnFromTail();
  std::size_t tail() const { return base_ + ring_.size(); }

  core::JobService& service_;
  const std::string id_;
  const std::shared_ptr<JobFeeds> feeds_;
  core::JobWatch::Subscription subscription_;

  std::atomic<std::uint64_t> generation_{1};  // +1 on every notice of the job
  std::atomic<std::uint64_t> reads_{0};       // stamps reads, in the order they started

  std::mutex mutex_;              // the cache below; held across the storage reads that fill it
  std::deque<std::string> ring_;  // the latest lines read, indexes [base_, tail())
  std::size_t base_ = 0;
  std::size_t ring_bytes_ = 0;
  std::uint64_t ring_read_ = 0;        // stamp of the read that last added to the ring
  std::uint64_t ring_generation_ = 0;  // generation_ when that read started
  bool ring_at_end_ = false;           // that read found the end of the log
  std::shared_ptr<const core::JobView> job_;
  std::shared_ptr<Texts> job_texts_;
  std::uint64_t job_read_ = 0;
  std::uint64_t job_generation_ = 0;  // 0: nothing read yet

  std::mutex followers_mutex_;
  std::uint64_t next_key_ = 1;
  std::map<std::uint64_t, std::shared_ptr<const Follower>> followers_;
};

/// The feeds of the jobs followed now: one per job, for as long as someone follows it.
class JobFeeds : public std::enable_shared_from_this<JobFeeds> {
 public:
  JobFeeds(core::JobService& service, core::JobWatch& watch) : service_(service), watch_(watch) {}
  std::shared_ptr<JobFeed> feedFor(const std::string& id);
  /// Jobs followed now (for tests).
  std::size_t size() const;

 private:
  friend class JobFeed;
  void forget(const std::string& id);

  core::JobService& service_;
  core::JobWatch& watch_;
  mutable std::mutex mutex_;
  std::unordered_map<std::string, std::weak_ptr<JobFeed>> feeds_;
};

}  // namespace dray::api

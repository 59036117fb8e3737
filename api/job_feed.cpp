#include "api/job_feed.hpp"

#include <algorithm>

namespace dray::api {
namespace {

constexpr std::size_t kReadLines = 64;        // log lines per storage read
constexpr std::size_t kRingLines = 4096;      // the latest lines kept for followers
constexpr std::size_t kRingBytes = 4u << 20;  // ... and at most this much of them

}  // namespace

JobFeed::JobFeed(core::JobService& service, std::string id, std::shared_ptr<JobFeeds> feeds)
    : service_(service), id_(std::move(id)), feeds_(std::move(feeds)) {}

JobFeed::~JobFeed() {
  subscription_.reset();
  feeds_->forget(id_);
}

void JobFeed::changed(const std::string& id, sdk::JobChange change) {
  // Every notice makes cached reads old, a heartbeat too: storage may drop a job without a
  // notice (records that expire, DRAY_KEY_TTL), and a heartbeat is when a follower notices.
  ++generation_;
  std::vector<std::shared_ptr<const Follower>> followers;
  {
    std::lock_guard lock(followers_mutex_);
    followers.reserve(followers_.size());
    for (const auto& [key, follower] : followers_) followers.push_back(follower);
  }
  for (const auto& follower : followers) (*follower)(id, change);
}

std::uint64_t JobFeed::join(Follower follower) {
  std::lock_guard lock(followers_mutex_);
  const std::uint64_t key = next_key_++;
  followers_.emplace(key, std::make_shared<const Follower>(std::move(follower)));
  subscription_.countAs(followers_.size());  // /metrics counts followers, not feeds
  return key;
}

void JobFeed::leave(std::uint64_t key) {
  std::lock_guard lock(followers_mutex_);
  followers_.erase(key);
  subscription_.countAs(followers_.size());
}

JobFeed::Record JobFeed::record(std::uint64_t after) {
  const std::uint64_t wanted = generation_;
  std::lock_guard lock(mutex_);
  if (job_generation_ < wanted || job_read_ <= after) {
    job_generation_ = generation_;
    job_read_ = ++reads_;
    auto job = service_.find(id_);
    job_ = job ? std::make_shared<const core::JobView>(std::move(*job)) : nullptr;
    job_texts_ = std::make_shared<Texts>();
  }
  return {job_, job_read_, job_texts_};
}

const std::string& JobFeed::Texts::get(const std::string& key, const std::function<std::string()>& render) {
  std::lock_guard lock(mutex_);
  auto it = texts_.find(key);
  if (it == texts_.end()) it = texts_.emplace(key, render()).first;  // nodes stay put: the reference lasts
  return it->second;
}

JobFeed::Page JobFeed::logPage(std::size_t from, std::size_t max, std::uint64_t after) {
  max = std::min(max, kReadLines);
  const std::uint64_t wanted = generation_;
  std::unique_lock lock(mutex_);
  if (ring_.empty() && from > tail()) {  // a follower resuming late in a long log
    base_ = from;
    ring_at_end_ = false;  // that end was at the old tail
  }
  if (from < base_ || from > tail()) {
    lock.unlock();
    return directPage(from, max);
  }
  if (from + max <= tail()) return pageFromRing(from, max, false);
  if (!(ring_at_end_ && ring_generation_ >= wanted && ring_read_ > after)) readOnFromTail();
  if (from < base_) {  // the ring dropped it to take what came after
    lock.unlock();
    return directPage(from, max);
  }
  return pageFromRing(from, max, ring_at_end_ && from + max > tail());
}

// The reads under mutex_ are one after another, so a later stamp there means a later read;
// a read outside it is stamped when it ended, so a read stamped after it started after it.
JobFeed::Page JobFeed::directPage(std::size_t from, std::size_t max) {
  Page page;
  page.lines = service_.logPage(id_, from, max);
  page.at_end = page.lines.size() < max;
  page.read = ++reads_;
  return page;
}

JobFeed::Page JobFeed::pageFromRing(std::size_t from, std::size_t max, bool at_end) const {
  Page page;
  const auto first = ring_.begin() + static_cast<std::ptrdiff_t>(from - base_);
  const auto last = first + static_cast<std::ptrdiff_t>(std::min(max, tail() - from));
  page.lines.assign(first, last);
  page.at_end = at_end;
  page.read = ring_read_;
  return page;
}

void JobFeed::readOnFromTail() {
  ring_generation_ = generation_;
  ring_read_ = ++reads_;
  auto lines = service_.logPage(id_, tail(), kReadLines);
  ring_at_end_ = lines.size() < kReadLines;
  for (auto& line : lines) {
    ring_bytes_ += line.size();
    ring_.push_back(std::move(line));
  }
  while (!ring_.empty() && (ring_.size() > kRingLines || ring_bytes_ > kRingBytes)) {
    ring_bytes_ -= ring_.front().size();
    ring_.pop_front();
    ++base_;
  }
}

std::shared_ptr<JobFeed> JobFeeds::feedFor(const std::string& id) {
  std::lock_guard lock(mutex_);
  auto& slot = feeds_[id];
  if (auto feed = slot.lock()) return feed;
  auto feed = std::make_shared<JobFeed>(service_, id, shared_from_this());
  feed->subscription_ = watch_.watch(
      id,
      [weak = std::weak_ptr<JobFeed>(feed)](const std::string& changed_id, sdk::JobChange change) {
        if (auto alive = weak.lock()) alive->changed(changed_id, change);
      },
      true);
  feed->subscription_.countAs(0);  // its followers count, when they join
  slot = feed;
  return feed;
}

std::size_t JobFeeds::size() const {
  std::lock_guard lock(mutex_);
  return feeds_.size();
}

void JobFeeds::forget(const std::string& id) {
  std::lock_guard lock(mutex_);
  auto it = feeds_.find(id);
  if (it != feeds_.end() && it->second.expired()) feeds_.erase(it);  // not a newer feed of the same job
}

}  // namespace dray::api

#include "core/job_watch.hpp"

#include <atomic>
#include <condition_variable>
#include <mutex>

#include <catch2/catch.hpp>

#include "plugins/storage/memory/memory_storage.hpp"
#include "tests/fakes/job_records.hpp"
#include "tests/fakes/null_storage.hpp"
#include "tests/support/test_support.hpp"

namespace {

using namespace dray;
using namespace std::chrono_literals;

// A storage that cannot tell changes (the SDK's default): the watch must fall back to polling.
using SilentStorage = test::NullStorage;

struct Counter {
  std::atomic<int> calls{0};
  std::mutex mutex;
  std::vector<std::pair<std::string, sdk::JobChange>> seen;
  core::JobWatch::Waker waker() {
    return [this](const std::string& id, sdk::JobChange change) {
      std::lock_guard lock(mutex);
      seen.emplace_back(id, change);
      ++calls;
    };
  }
};

}  // namespace

TEST_CASE("a watcher of one job wakes on its changes only, an all-jobs watcher on all", "[unit][events]") {
  plugins::storage::memory::MemoryStorage storage;
  core::JobWatch watch(storage, {std::chrono::hours(1), 250ms});
  CHECK(watch.pushed());
  Counter one, all;
  auto a = watch.watch("A", one.waker());
  auto b = watch.watch("", all.waker());
  CHECK(watch.watchers() == 2);
  storage.createJob(test::jobRecord("A"));
  storage.createJob(test::jobRecord("B"));
  REQUIRE(test::waitUntil([&] { return all.calls == 2; }, 5s, 1ms));
  storage.appendLog("A", {"line"});
  REQUIRE(test::waitUntil([&] { return one.calls == 2 && all.calls == 3; }, 5s, 1ms));
  {
    std::scoped_lock lock(one.mutex, all.mutex);
    CHECK(one.seen[1] == std::make_pair(std::string("A"), sdk::JobChange::kLog));
    CHECK(all.seen[1] == std::make_pair(std::string("B"), sdk::JobChange::kRecord));
  }
  a.reset();
  storage.setStatus("A", "complete");
  REQUIRE(test::waitUntil([&] { return all.calls == 4; }, 5s, 1ms));
  CHECK(one.calls == 2);  // unsubscribed
  CHECK(watch.watchers() == 1);
}

TEST_CASE("heartbeats wake only the watchers that asked, a deadline wakes once", "[unit][events]") {
  plugins::storage::memory::MemoryStorage storage;
  core::JobWatch watch(storage, {50ms, 250ms});
  Counter beating, quiet, timed;
  auto a = watch.watch("A", beating.waker(), true);
  auto b = watch.watch("A", quiet.waker());
  auto c = watch.watch("A", timed.waker());
  c.wakeAt(std::chrono::steady_clock::now() + 100ms);
  REQUIRE(test::waitUntil([&] { return beating.calls >= 3; }, 5s, 5ms));
  CHECK(quiet.calls == 0);
  REQUIRE(test::waitUntil([&] { return timed.calls >= 1; }, 5s, 5ms));
  std::this_thread::sleep_for(200ms);
  CHECK(timed.calls == 1);
  std::lock_guard lock(beating.mutex);
  CHECK(beating.seen[0] == std::make_pair(std::string(), sdk::JobChange::kRecord));  // a tick names no job
}

TEST_CASE("with a storage that cannot tell changes every watcher is polled", "[unit][events]") {
  SilentStorage storage;
  core::JobWatch watch(storage, {std::chrono::hours(1), 20ms});
  CHECK_FALSE(watch.pushed());
  Counter counter;
  auto a = watch.watch("A", counter.waker());
  REQUIRE(test::waitUntil([&] { return counter.calls >= 3; }, 5s, 5ms));
  std::lock_guard lock(counter.mutex);
  CHECK(counter.seen[0].second == sdk::JobChange::kResync);
}

TEST_CASE("a watch that goes away unregisters from its storage", "[unit][events]") {
  plugins::storage::memory::MemoryStorage storage;
  Counter first, second;
  {
    core::JobWatch watch(storage);
    auto a = watch.watch("A", first.waker());
    storage.createJob(test::jobRecord("A"));
    REQUIRE(test::waitUntil([&] { return first.calls == 1; }, 5s, 1ms));
  }
  storage.setStatus("A", "complete");  // must not reach the destroyed watch (ASan stage)
  core::JobWatch again(storage);
  auto b = again.watch("A", second.waker());
  storage.setStatus("A", "error");
  REQUIRE(test::waitUntil([&] { return second.calls == 1; }, 5s, 1ms));
  CHECK(first.calls == 1);
}

TEST_CASE("a writer never waits for the watchers, notices that pile up meanwhile are told once per job",
          "[unit][events]") {
  plugins::storage::memory::MemoryStorage storage;
  core::JobWatch watch(storage, {std::chrono::hours(1), 250ms});
  std::mutex gate;
  std::unique_lock held(gate);  // the watcher blocks on it, as a slow one would
  Counter counter;
  auto a = watch.watch("", [&, inner = counter.waker()](const std::string& id, sdk::JobChange change) {
    std::lock_guard pass(gate);
    inner(id, change);
  });
  storage.createJob(test::jobRecord("A"));  // told at once, and the watcher blocks in it
  std::this_thread::sleep_for(50ms);
  for (int i = 0; i < 50; ++i) storage.appendLog("A", {"line"});  // returns although the watcher is stuck
  storage.setStatus("A", "running");
  storage.createJob(test::jobRecord("B"));
  held.unlock();
  REQUIRE(test::waitUntil([&] { return counter.calls >= 3; }, 5s, 1ms));
  std::this_thread::sleep_for(50ms);
  std::lock_guard lock(counter.mutex);
  REQUIRE(counter.seen.size() == 3);
  CHECK(counter.seen[0] == std::make_pair(std::string("A"), sdk::JobChange::kRecord));
  CHECK(counter.seen[1] == std::make_pair(std::string("A"), sdk::JobChange::kRecord));  // 50 lines + status: one
  CHECK(counter.seen[2] == std::make_pair(std::string("B"), sdk::JobChange::kRecord));
}

#include "api/job_feed.hpp"

#include <atomic>

#include <catch2/catch.hpp>

#include "core/channel_set.hpp"
#include "core/job_runner.hpp"
#include "tests/fakes/fake_runtime.hpp"
#include "tests/fakes/job_records.hpp"
#include "tests/fakes/null_storage.hpp"
#include "tests/support/test_support.hpp"

namespace {

using namespace dray;
using namespace std::chrono_literals;

// One job whose reads are counted, and whose changes are told when the test says so.
class CountingStorage : public test::NullStorage {
 public:
  std::atomic<int> record_reads{0};
  std::atomic<int> log_reads{0};
  sdk::JobRecord job = test::jobRecord("A");
  std::vector<std::string> lines;
  bool exists = true;

  std::optional<sdk::JobRecord> getJob(const std::string&) override {
    ++record_reads;
    if (!exists) return std::nullopt;
    return job;
  }
  std::vector<std::string> readLog(const std::string&, std::size_t from, std::size_t max) override {
    ++log_reads;
    std::vector<std::string> page;
    for (std::size_t i = from; i < lines.size() && page.size() < max; ++i) page.push_back(lines[i]);
    return page;
  }
  bool watchChanges(sdk::ChangeWatcher watcher) override {
    watcher_ = std::move(watcher);
    return true;
  }
  void tell(sdk::JobChange change) { watcher_("A", change); }

 private:
  sdk::ChangeWatcher watcher_;
};

struct Feeds {
  CountingStorage storage;
  test::FakeRuntime runtime;
  core::ChannelSet channels;
  core::JobRunner runner{storage, runtime, {1, 100, 1024, 1 << 20, "test"}};
  core::JobService service{storage, runner, channels};
  core::JobWatch watch{storage, {std::chrono::hours(1), std::chrono::hours(1)}};
  std::shared_ptr<api::JobFeeds> feeds = std::make_shared<api::JobFeeds>(service, watch);

  // Tells a change and waits until the feed has passed it on (it is then taken into account).
  void change(api::JobFeed& feed, sdk::JobChange what) {
    std::atomic<int> told{0};
    const auto key = feed.join([&](const std::string& id, sdk::JobChange) {
      if (!id.empty()) ++told;
    });
    storage.tell(what);
    REQUIRE(test::waitUntil([&] { return told > 0; }, 5s, 1ms));
    feed.leave(key);
  }
};

std::vector<std::string> numbered(std::size_t count) {
  std::vector<std::string> lines;
  for (std::size_t i = 0; i < count; ++i) lines.push_back("line " + std::to_string(i));
  return lines;
}

}  // namespace

TEST_CASE("a job's followers share one feed and its reads until the job changes", "[unit][events]") {
  Feeds f;
  f.storage.lines = numbered(10);
  auto feed = f.feeds->feedFor("A");
  CHECK(f.feeds->feedFor("A") == feed);
  CHECK(f.feeds->size() == 1);
  for (int follower = 0; follower < 100; ++follower) {
    auto page = feed->logPage(0, 64, 0);
    CHECK(page.lines == f.storage.lines);
    CHECK(page.at_end);
    auto record = feed->record(page.read);
    REQUIRE(record.job);
    CHECK(record.read > page.read);  // the record was read after the page
  }
  CHECK(f.storage.log_reads == 1);
  CHECK(f.storage.record_reads == 1);
  // Texts made from one record are made once for all its followers.
  int renders = 0;
  auto render = [&] { return "text " + std::to_string(++renders); };
  CHECK(feed->record(0).texts->get("end", render) == "text 1");
  CHECK(feed->record(0).texts->get("end", render) == "text 1");
  CHECK(renders == 1);

  f.storage.lines.push_back("line 10");
  f.storage.job.completed_steps = 1;
  f.change(*feed, sdk::JobChange::kLog);
  for (int follower = 0; follower < 100; ++follower) {
    auto page = feed->logPage(10, 64, 0);
    CHECK(page.lines == std::vector<std::string>{"line 10"});
    CHECK(feed->record(page.read).job->record.completed_steps == 1);
  }
  CHECK(feed->record(0).texts->get("end", render) == "text 2");  // a new record: made again
  CHECK(f.storage.log_reads == 2);
  CHECK(f.storage.record_reads == 2);

  f.storage.exists = false;
  f.change(*feed, sdk::JobChange::kRemoved);
  CHECK_FALSE(feed->record(0).job);
  feed.reset();
  CHECK(f.feeds->size() == 0);  // nobody follows the job any more
}

TEST_CASE("a feed reads again for a page that must postdate a record, and a record that must postdate a page",
          "[unit][events]") {
  Feeds f;
  f.storage.lines = numbered(3);
  auto feed = f.feeds->feedFor("A");
  auto record = feed->record(0);
  auto page = feed->logPage(0, 64, record.read);  // e.g. after the record said the job ended
  CHECK(page.read > record.read);
  CHECK(page.lines.size() == 3);
  auto again = feed->record(page.read);
  CHECK(again.read > page.read);
  CHECK(f.storage.record_reads == 2);
  CHECK(f.storage.log_reads == 1);
}

TEST_CASE("a feed serves followers far apart in a long log, each its exact lines", "[unit][events]") {
  Feeds f;
  f.storage.lines = numbered(10000);
  auto feed = f.feeds->feedFor("A");
  // One follower from the start and one resuming late: both read every line once, in order.
  std::size_t early = 0, late = 9000;
  while (early < 10000 || late < 10000) {
    for (std::size_t* cursor : {&early, &late}) {
      if (*cursor >= 10000) continue;
      auto page = feed->logPage(*cursor, 64, 0);
      REQUIRE_FALSE(page.lines.empty());
      for (const auto& line : page.lines) CHECK(line == "line " + std::to_string((*cursor)++));
      CHECK(page.at_end == (*cursor == 10000));
    }
  }
  // New lines reach a follower at the end, after a notice.
  f.storage.lines.push_back("line 10000");
  CHECK(feed->logPage(10000, 64, 0).lines.empty());  // not told yet: what was read is still current
  f.change(*feed, sdk::JobChange::kLog);
  CHECK(feed->logPage(10000, 64, 0).lines == std::vector<std::string>{"line 10000"});
}

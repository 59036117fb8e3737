// The storage contract: the same cases run against every storage plugin, loaded through the
// real loader. DRAY_TEST_STORAGE picks the plugin (memory, redis); for redis each case gets
// its own redis-server on a free loopback port. This is how to check a storage of your own.
#include <cstdint>
#include <thread>

#include <catch2/catch.hpp>

#include "core/plugin_registry.hpp"
#include "dray/sdk/errors.hpp"
#include "dray/sdk/storage.hpp"
#include "tests/fakes/job_records.hpp"
#include "tests/fakes/string_streams.hpp"
#include "tests/support/test_support.hpp"

namespace {

using namespace dray;
using Lines = std::vector<std::string>;

class StorageUnderTest {
 public:
  StorageUnderTest() {
    if (test::testStorage() == "redis") {
      redis_ = std::make_unique<test::RedisServer>();
      ::setenv("REDIS_URL", redis_->url().c_str(), 1);
    }
    registry_ =
        std::make_unique<core::PluginRegistry>(core::PluginLoader::loadDirectories({test::pluginDir()}), logger_);
    storage_ = registry_->create<sdk::Storage>(sdk::PluginKind::kStorage, test::testStorage());
  }
  ~StorageUnderTest() {
    storage_.reset();
    ::unsetenv("REDIS_URL");
  }
  sdk::Storage& operator*() { return *storage_; }
  sdk::Storage* operator->() { return storage_.get(); }
  test::RedisServer* redis() { return redis_.get(); }

 private:
  std::unique_ptr<test::RedisServer> redis_;
  test::RecordingLogger logger_;
  std::unique_ptr<core::PluginRegistry> registry_;
  std::shared_ptr<sdk::Storage> storage_;
};

sdk::JobRecord job(const std::string& id, std::size_t steps = 3) {
  return test::jobRecord(id, steps, R"({"steps":[]})");
}

// Log lines become visible after flush(), and soon without it.
Lines readAfterFlush(sdk::Storage& storage, const std::string& id, std::size_t from = 0) {
  storage.flush();
  return storage.readLog(id, from, SIZE_MAX);
}

}  // namespace

TEST_CASE("a created job reads back with its fields", "[storage][contract]") {
  StorageUnderTest storage;
  sdk::JobRecord record = test::jobRecord("JOB-1", 2, R"({"name":"Wörter ✓","steps":[{"source":"a"}]})");
  record.owner = "instance-a";
  record.creator = "team-a";
  record.name = "Wörter ✓";
  record.created_at = "2026-11-27T10:00:00.000000Z";
  record.steps = {{"first", "img/a", "pending", -1, "", ""}, {"", "img/b:2", "pending", -1, "", ""}};
  storage->createJob(record);
  auto read = storage->getJob("JOB-1");
  REQUIRE(read);
  CHECK(read->id == "JOB-1");
  CHECK(read->description == record.description);
  CHECK(read->total_steps == 2);
  CHECK(read->completed_steps == 0);
  CHECK(read->status == "running");
  CHECK(read->owner == "instance-a");
  CHECK(read->creator == "team-a");
  CHECK(read->name == "Wörter ✓");
  CHECK(read->created_at == "2026-11-27T10:00:00.000000Z");
  REQUIRE(read->steps.size() == 2);
  CHECK(read->steps[0].name == "first");
  CHECK(read->steps[1].image == "img/b:2");
  CHECK(read->steps[1].state == "pending");
  CHECK(read->steps[1].exit_code == -1);
  CHECK_FALSE(storage->getJob("JOB-2"));
  CHECK_THROWS_AS(storage->createJob(record), sdk::StorageError);
}

TEST_CASE("jobs are listed oldest first and deleted with everything they own", "[storage][contract]") {
  StorageUnderTest storage;
  for (const char* id : {"C", "A", "B"}) storage->createJob(job(id));
  CHECK(storage->listJobs() == Lines{"C", "A", "B"});
  storage->appendLog("A", {"a line"});
  CHECK(readAfterFlush(*storage, "A") == Lines{"a line"});
  CHECK(storage->deleteJob("A"));
  CHECK_FALSE(storage->deleteJob("A"));
  CHECK_FALSE(storage->getJob("A"));
  CHECK(storage->readLog("A", 0, SIZE_MAX).empty());
  CHECK(storage->listJobs() == Lines{"C", "B"});
}

TEST_CASE("status and steps completed are updated", "[storage][contract]") {
  StorageUnderTest storage;
  storage->createJob(job("J"));
  storage->setCompletedSteps("J", 2);
  storage->setStatus("J", "error");
  storage->flush();
  REQUIRE(test::waitUntil([&] { return storage->getJob("J")->status == "error"; }, std::chrono::seconds(2)));
  CHECK(storage->getJob("J")->completed_steps == 2);
}

TEST_CASE("step records and times are updated", "[storage][contract]") {
  StorageUnderTest storage;
  sdk::JobRecord record = job("S", 2);
  record.steps = {{"a", "img/a", "pending", -1, "", ""}, {"b", "img/b", "pending", -1, "", ""}};
  storage->createJob(record);
  storage->setTimes("S", "2026-11-27T10:00:01Z", "");
  storage->setStep("S", 0, {"a", "img/a", "complete", 0, "2026-11-27T10:00:01Z", "2026-11-27T10:00:02Z"});
  storage->setStep("S", 1, {"b", "img/b", "error", 3, "2026-11-27T10:00:02Z", "2026-11-27T10:00:03Z"});
  storage->setTimes("S", "", "2026-11-27T10:00:03Z");
  storage->flush();
  REQUIRE(test::waitUntil([&] { return !storage->getJob("S")->finished_at.empty(); }, std::chrono::seconds(2)));
  auto read = *storage->getJob("S");
  CHECK(read.started_at == "2026-11-27T10:00:01Z");
  CHECK(read.finished_at == "2026-11-27T10:00:03Z");
  REQUIRE(read.steps.size() == 2);
  CHECK(read.steps[0].state == "complete");
  CHECK(read.steps[0].exit_code == 0);
  CHECK(read.steps[1].state == "error");
  CHECK(read.steps[1].exit_code == 3);
  CHECK(read.steps[1].finished_at == "2026-11-27T10:00:03Z");
}

TEST_CASE("updates to unknown or deleted jobs never recreate them", "[storage][contract]") {
  StorageUnderTest storage;
  storage->createJob(job("GONE"));
  CHECK(storage->deleteJob("GONE"));
  storage->setStatus("GONE", "complete");
  storage->setStep("GONE", 0, {});
  storage->setTimes("GONE", "x", "y");
  storage->setCompletedSteps("GONE", 1);
  storage->appendLog("GONE", {"late line"});
  storage->setStatus("NEVER", "complete");
  storage->flush();
  CHECK_FALSE(storage->getJob("GONE"));
  CHECK_FALSE(storage->getJob("NEVER"));
  CHECK(storage->readLog("GONE", 0, SIZE_MAX).empty());
  CHECK(storage->listJobs().empty());
}

TEST_CASE("log lines keep their order and read from any index", "[storage][contract]") {
  StorageUnderTest storage;
  storage->createJob(job("J"));
  storage->appendLog("J", {"one", "two"});
  storage->appendLog("J", {"three"});
  storage->appendLog("J", {"", std::string("bin\0ary\r\n", 9), "ünïcödé"});
  CHECK(readAfterFlush(*storage, "J") == Lines{"one", "two", "three", "", std::string("bin\0ary\r\n", 9), "ünïcödé"});
  CHECK(storage->readLog("J", 2, SIZE_MAX) == Lines{"three", "", std::string("bin\0ary\r\n", 9), "ünïcödé"});
  CHECK(storage->readLog("J", 6, SIZE_MAX).empty());
  CHECK(storage->readLog("J", 1, 2) == Lines{"two", "three"});
  CHECK(storage->readLog("J", 4, 100).size() == 2);
  CHECK(storage->readLog("J", 0, 0).empty());
  CHECK(storage->readLog("J", 1000, SIZE_MAX).empty());
}

TEST_CASE("appended lines become readable soon even without flush", "[storage][contract]") {
  StorageUnderTest storage;
  storage->createJob(job("J"));
  storage->appendLog("J", {"soon"});
  CHECK(test::waitUntil([&] { return storage->readLog("J", 0, SIZE_MAX) == Lines{"soon"}; },
                        std::chrono::milliseconds(1000), std::chrono::milliseconds(5)));
}

TEST_CASE("concurrent writers to many jobs lose nothing and keep each job's order", "[storage][contract]") {
  StorageUnderTest storage;
  constexpr int kJobs = 8, kLines = 2000;
  for (int j = 0; j < kJobs; ++j) storage->createJob(job("J" + std::to_string(j)));
  std::vector<std::thread> writers;
  for (int j = 0; j < kJobs; ++j) {
    writers.emplace_back([&storage, j] {
      for (int i = 0; i < kLines; i += 4) {
        Lines batch;
        for (int k = i; k < i + 4; ++k) batch.push_back(std::to_string(k));
        const std::vector<std::string_view> views(batch.begin(), batch.end());
        storage->appendLog("J" + std::to_string(j), views);
      }
      storage->setStatus("J" + std::to_string(j), "complete");
    });
  }
  for (auto& w : writers) w.join();
  storage->flush();
  for (int j = 0; j < kJobs; ++j) {
    auto lines = storage->readLog("J" + std::to_string(j), 0, SIZE_MAX);
    REQUIRE(lines.size() == kLines);
    for (int i = 0; i < kLines; ++i) REQUIRE(lines[i] == std::to_string(i));
    CHECK(storage->getJob("J" + std::to_string(j))->status == "complete");
  }
}

TEST_CASE("a hundred thousand lines in small batches all arrive", "[storage][contract]") {
  StorageUnderTest storage;
  storage->createJob(job("BIG"));
  for (int i = 0; i < 100000; ++i) storage->appendLog("BIG", {"line " + std::to_string(i)});
  auto lines = readAfterFlush(*storage, "BIG");
  REQUIRE(lines.size() == 100000);
  CHECK(lines.front() == "line 0");
  CHECK(lines.back() == "line 99999");
  CHECK(storage->readLog("BIG", 99998, SIZE_MAX) == Lines{"line 99998", "line 99999"});
}

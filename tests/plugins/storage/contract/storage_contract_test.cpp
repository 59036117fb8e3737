// The storage contract: the same cases run against every storage plugin, loaded through the
// real loader. DRAY_TEST_STORAGE picks the plugin (memory, redis); for redis each case gets
// its own redis-server on a free loopback port. This is how to check a storage of your own.
#include <condition_variable>
#include <cstdint>
#include <mutex>
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

// Sets environment variables for the object's life (plugin options are read from there).
class ScopedEnv {
 public:
  explicit ScopedEnv(test::EnvMap env) : env_(std::move(env)) {
    for (const auto& [name, value] : env_) ::setenv(name.c_str(), value.c_str(), 1);
  }
  ~ScopedEnv() {
    for (const auto& [name, value] : env_) ::unsetenv(name.c_str());
  }

 private:
  test::EnvMap env_;
};

class StorageUnderTest {
 public:
  /// `env`: plugin settings for this storage, e.g. {{"DRAY_KEY_TTL", "1"}}.
  explicit StorageUnderTest(test::EnvMap env = {}) {
    if (test::testStorage() == "redis") {
      redis_ = std::make_unique<test::RedisServer>();
      env["REDIS_URL"] = redis_->url();
    }
    env_ = std::make_unique<ScopedEnv>(std::move(env));
    registry_ =
        std::make_unique<core::PluginRegistry>(core::PluginLoader::loadDirectories({test::pluginDir()}), logger_);
    storage_ = registry_->create<sdk::Storage>(sdk::PluginKind::kStorage, test::testStorage());
  }
  ~StorageUnderTest() { storage_.reset(); }
  sdk::Storage& operator*() { return *storage_; }
  sdk::Storage* operator->() { return storage_.get(); }
  test::RedisServer* redis() { return redis_.get(); }

 private:
  std::unique_ptr<test::RedisServer> redis_;
  std::unique_ptr<ScopedEnv> env_;
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

// --- The production fork's additions (issue 15): output, finishedIn, attempts, retention ---

TEST_CASE("the final output is kept, replaced, and goes with its job", "[storage][contract][output]") {
  StorageUnderTest storage;
  storage->createJob(job("OUT"));
  CHECK_FALSE(storage->readOutput("OUT"));
  const std::string bytes("first\0line\r\n\xff\xfe ünïcödé\n", 24);
  storage->setOutput("OUT", bytes);
  storage->flush();
  CHECK(storage->readOutput("OUT") == bytes);
  storage->setOutput("OUT", std::string(200000, 'o'));  // replaces, never appends
  storage->flush();
  CHECK(storage->readOutput("OUT") == std::string(200000, 'o'));
  storage->setOutput("OUT", "");
  storage->flush();
  CHECK(storage->readOutput("OUT") == std::string());  // kept as given: empty is not "none"
  CHECK(storage->deleteJob("OUT"));
  CHECK_FALSE(storage->readOutput("OUT"));
  storage->setOutput("OUT", "late");  // after delete: never recreates the job or its output
  storage->setOutput("NEVER", "x");
  storage->flush();
  CHECK_FALSE(storage->readOutput("OUT"));
  CHECK_FALSE(storage->readOutput("NEVER"));
  CHECK_FALSE(storage->getJob("OUT"));
  CHECK(storage->listJobs().empty());
}

TEST_CASE("finishedIn and step attempts read back", "[storage][contract]") {
  StorageUnderTest storage;
  sdk::JobRecord record = job("F", 2);
  record.steps = {{"a", "img/a", "pending", -1, "", "", 0}, {"b", "img/b", "pending", -1, "", "", 0}};
  storage->createJob(record);
  CHECK(storage->getJob("F")->finished_in.empty());
  CHECK(storage->getJob("F")->steps[0].attempts == 0);
  storage->setStep("F", 0, {"a", "img/a", "running", -1, "2026-11-27T10:00:01Z", "", 1});
  storage->setStep("F", 0, {"a", "img/a", "complete", 0, "2026-11-27T10:00:01Z", "2026-11-27T10:00:02Z", 3});
  storage->setFinishedIn("F", "2.514");
  storage->flush();
  REQUIRE(test::waitUntil([&] { return !storage->getJob("F")->finished_in.empty(); }, std::chrono::seconds(2)));
  auto read = *storage->getJob("F");
  CHECK(read.finished_in == "2.514");
  CHECK(read.steps[0].attempts == 3);
  CHECK(read.steps[0].state == "complete");
  CHECK(read.steps[1].attempts == 0);
}

TEST_CASE("DRAY_REMOVE_DONE: an ended job leaves the list, its records stay", "[storage][contract][retention]") {
  StorageUnderTest storage(test::EnvMap{{"DRAY_REMOVE_DONE", "true"}});
  for (const char* id : {"DONE", "FAILED", "CANCELED", "RUNNING"}) storage->createJob(job(id));
  storage->appendLog("DONE", {"kept"});
  storage->setOutput("DONE", "result");
  storage->setStatus("DONE", "complete");
  storage->setStatus("FAILED", "error");
  storage->setStatus("CANCELED", "canceled");
  storage->setStatus("RUNNING", "running");
  storage->flush();
  CHECK(storage->listJobs() == Lines{"RUNNING"});
  CHECK(storage->getJob("DONE")->status == "complete");
  CHECK(storage->getJob("CANCELED")->status == "canceled");
  CHECK(storage->readLog("DONE", 0, SIZE_MAX) == Lines{"kept"});
  CHECK(storage->readOutput("DONE") == "result");
  CHECK(storage->deleteJob("DONE"));
  CHECK_FALSE(storage->getJob("DONE"));
}

TEST_CASE("without DRAY_REMOVE_DONE ended jobs stay listed", "[storage][contract][retention]") {
  StorageUnderTest storage(test::EnvMap{{"DRAY_REMOVE_DONE", "false"}});
  storage->createJob(job("A"));
  storage->setStatus("A", "complete");
  storage->flush();
  CHECK(storage->listJobs() == Lines{"A"});
}

TEST_CASE("DRAY_KEY_TTL: a job goes whole that long after its last write", "[storage][contract][retention]") {
  StorageUnderTest storage(test::EnvMap{{"DRAY_KEY_TTL", "1"}});
  storage->createJob(job("IDLE"));
  storage->createJob(job("BUSY"));
  storage->appendLog("IDLE", {"line"});
  storage->setOutput("IDLE", "out");
  storage->setStatus("IDLE", "complete");
  storage->flush();
  const auto last_idle_write = std::chrono::steady_clock::now();
  CHECK(storage->readOutput("IDLE") == "out");
  // BUSY is written every 200 ms for 2 s: each write renews all of its keys.
  for (int i = 0; i < 10; ++i) {
    storage->appendLog("BUSY", {std::to_string(i)});
    storage->flush();
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
  CHECK(std::chrono::steady_clock::now() - last_idle_write > std::chrono::milliseconds(1500));
  CHECK_FALSE(storage->getJob("IDLE"));
  CHECK(storage->readLog("IDLE", 0, SIZE_MAX).empty());
  CHECK_FALSE(storage->readOutput("IDLE"));
  REQUIRE(storage->getJob("BUSY"));
  CHECK(storage->readLog("BUSY", 0, SIZE_MAX).size() == 10);
  CHECK(storage->listJobs() == Lines{"BUSY"});  // the expired id is no longer listed
  // A write to an expired job does not bring it back.
  storage->setStatus("IDLE", "error");
  storage->flush();
  CHECK_FALSE(storage->getJob("IDLE"));
  // Once BUSY stops being written it goes too.
  CHECK(test::waitUntil([&] { return !storage->getJob("BUSY"); }, std::chrono::seconds(3)));
  CHECK(storage->listJobs().empty());
}

TEST_CASE("bad retention settings stop start-up with the variable's name", "[storage][contract][retention]") {
  for (const auto& [variable, value] : std::vector<std::pair<std::string, std::string>>{
           {"DRAY_KEY_TTL", "soon"}, {"DRAY_KEY_TTL", "-1"}, {"DRAY_KEY_TTL", "1.5"}, {"DRAY_REMOVE_DONE", "maybe"}}) {
    INFO(variable << "=" << value);
    try {
      StorageUnderTest storage(test::EnvMap{{variable, value}});
      FAIL("the storage started");
    } catch (const std::exception& e) {
      CHECK_THAT(e.what(), Catch::Contains(variable) && Catch::Contains("'" + value + "'"));
    }
  }
  StorageUnderTest fine(test::EnvMap{{"DRAY_KEY_TTL", "0"}, {"DRAY_REMOVE_DONE", "1"}});
  fine->createJob(job("A"));
  CHECK(fine->getJob("A"));
}

TEST_CASE("step log positions read back", "[storage][contract][events]") {
  StorageUnderTest storage;
  storage->createJob(job("P", 1));
  sdk::StepRecord step{"a", "img/a", "complete", 0, "2026-11-28T10:00:01Z", "2026-11-28T10:00:02Z", 1};
  step.log_from = 7;
  step.log_until = 12345678901ULL;
  storage->setStep("P", 0, step);
  storage->flush();
  REQUIRE(test::waitUntil([&] { return storage->getJob("P")->steps[0].state == "complete"; }, std::chrono::seconds(2)));
  CHECK(storage->getJob("P")->steps[0].log_from == 7);
  CHECK(storage->getJob("P")->steps[0].log_until == 12345678901ULL);
}

TEST_CASE("a change watcher is told of every change once it is readable, in order", "[storage][contract][events]") {
  StorageUnderTest storage;
  std::mutex mutex;
  std::vector<std::pair<std::string, sdk::JobChange>> notices;
  // A watcher must not call the storage: the test reads from another thread on each notice.
  std::condition_variable told;
  REQUIRE(storage->watchChanges([&](const std::string& id, sdk::JobChange change) {
    std::lock_guard lock(mutex);
    notices.emplace_back(id, change);
    told.notify_all();
  }));
  auto waitFor = [&](std::size_t count) {
    std::unique_lock lock(mutex);
    return told.wait_for(lock, std::chrono::seconds(5), [&] { return notices.size() >= count; });
  };
  storage->createJob(job("W", 1));
  REQUIRE(waitFor(1));
  CHECK(storage->getJob("W"));  // readable when told
  storage->appendLog("W", {"one", "two"});
  REQUIRE(waitFor(2));
  CHECK(storage->readLog("W", 0, 10).size() == 2);
  storage->setStatus("W", "complete");
  REQUIRE(waitFor(3));
  CHECK(storage->getJob("W")->status == "complete");
  CHECK(storage->deleteJob("W"));
  REQUIRE(waitFor(4));
  CHECK_FALSE(storage->getJob("W"));
  std::lock_guard lock(mutex);
  REQUIRE(notices.size() == 4);
  CHECK(notices[0] == std::make_pair(std::string("W"), sdk::JobChange::kRecord));
  CHECK(notices[1] == std::make_pair(std::string("W"), sdk::JobChange::kLog));
  CHECK(notices[2] == std::make_pair(std::string("W"), sdk::JobChange::kRecord));
  CHECK(notices[3] == std::make_pair(std::string("W"), sdk::JobChange::kRemoved));
}

TEST_CASE("a job's callback outcome reads back", "[storage][contract][webhooks]") {
  StorageUnderTest storage;
  storage->createJob(job("CB", 1));
  CHECK_FALSE(storage->getJob("CB")->callback.requested);
  storage->setCallback("CB", {true, false, 2, "HTTP 503"});
  storage->flush();
  REQUIRE(test::waitUntil([&] { return storage->getJob("CB")->callback.requested; }, std::chrono::seconds(2)));
  auto callback = storage->getJob("CB")->callback;
  CHECK_FALSE(callback.delivered);
  CHECK(callback.attempts == 2);
  CHECK(callback.last_error == "HTTP 503");
  storage->setCallback("CB", {true, true, 3, ""});
  storage->flush();
  REQUIRE(test::waitUntil([&] { return storage->getJob("CB")->callback.delivered; }, std::chrono::seconds(2)));
  CHECK(storage->getJob("CB")->callback.attempts == 3);
  CHECK(storage->getJob("CB")->callback.last_error.empty());
}

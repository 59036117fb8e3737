#include "plugins/storage/memory/memory_storage.hpp"

#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <thread>

#include <catch2/catch.hpp>

#include "tests/fakes/job_records.hpp"

#include "dray/sdk/errors.hpp"
#include "plugins/storage/common/retention.hpp"
#include "plugins/storage/memory/memory_accounting.hpp"
#include "tests/support/test_support.hpp"

using dray::plugins::storage::memory::MemoryStorage;
using dray::sdk::JobRecord;

TEST_CASE("jobs are created, listed oldest first, updated and deleted", "[plugins][memory]") {
  MemoryStorage storage;
  storage.createJob(dray::test::jobRecord("B", 2, "{}"));
  storage.createJob(dray::test::jobRecord("A", 3, "{}"));
  CHECK(storage.listJobs() == std::vector<std::string>{"B", "A"});
  CHECK_THROWS_AS(storage.createJob(dray::test::jobRecord("A", 1, "{}")), dray::sdk::StorageError);
  storage.setCompletedSteps("A", 2);
  storage.setStatus("A", "error");
  auto a = storage.getJob("A");
  REQUIRE(a);
  CHECK(a->completed_steps == 2);
  CHECK(a->status == "error");
  CHECK(a->total_steps == 3);
  CHECK(storage.deleteJob("A"));
  CHECK_FALSE(storage.deleteJob("A"));
  CHECK_FALSE(storage.getJob("A"));
  CHECK(storage.listJobs() == std::vector<std::string>{"B"});
}

TEST_CASE("updates to unknown jobs are ignored and never recreate them", "[plugins][memory]") {
  MemoryStorage storage;
  storage.setStatus("X", "complete");
  storage.setCompletedSteps("X", 1);
  storage.appendLog("X", {"line"});
  CHECK_FALSE(storage.getJob("X"));
  CHECK(storage.readLog("X", 0, SIZE_MAX).empty());
}

TEST_CASE("concurrent appends keep every line and each batch in order", "[plugins][memory]") {
  MemoryStorage storage;
  storage.createJob(dray::test::jobRecord("J", 1, "{}"));
  std::vector<std::thread> writers;
  for (int w = 0; w < 4; ++w) {
    writers.emplace_back([&storage, w] {
      for (int i = 0; i < 1000; ++i) storage.appendLog("J", {std::to_string(w) + ":" + std::to_string(i)});
    });
  }
  for (auto& t : writers) t.join();
  auto log = storage.readLog("J", 0, SIZE_MAX);
  CHECK(log.size() == 4000);
  std::vector<int> next(4, 0);
  for (const auto& line : log) {
    int w = line[0] - '0';
    CHECK(line == std::to_string(w) + ":" + std::to_string(next[w]++));
  }
  CHECK(storage.readLog("J", 3999, SIZE_MAX).size() == 1);
  CHECK(storage.readLog("J", 4000, SIZE_MAX).empty());
}

namespace {

using dray::plugins::storage::memory::kLineOverhead;
using dray::plugins::storage::memory::recordCost;

constexpr std::string_view kDropped = "dray: log dropped: dray's memory limit (DRAY_MEMORY_LIMIT) was reached";

// `count` lines of `size` bytes each, appended in batches of 100 as the core does.
void appendLines(MemoryStorage& storage, const std::string& id, std::size_t count, std::size_t size) {
  const std::string line(size, 'x');
  std::vector<std::string_view> batch(100, line);
  for (std::size_t done = 0; done < count; done += batch.size()) {
    storage.appendLog(id, std::span<const std::string_view>(batch.data(), std::min(batch.size(), count - done)));
  }
}

}  // namespace

TEST_CASE("records and lines are counted: bytes plus a fixed cost per line", "[plugins][memory][limit]") {
  MemoryStorage storage;
  const auto record = dray::test::jobRecord("J", 2, R"({"steps":[{},{}]})");
  storage.createJob(record);
  CHECK(storage.used() == recordCost(record));
  storage.appendLog("J", {"", "abc"});
  CHECK(storage.used() == recordCost(record) + 2 * kLineOverhead + 3);
  CHECK(storage.deleteJob("J"));
  CHECK(storage.used() == 0);
}

TEST_CASE("the oldest finished job's log is dropped first, leaving one notice", "[plugins][memory][limit]") {
  MemoryStorage storage(1 << 20);
  for (const char* id : {"OLD", "NEWER", "RUNNING"}) storage.createJob(dray::test::jobRecord(id));
  appendLines(storage, "OLD", 3000, 100);  // 396,000 bytes with the per-line cost
  appendLines(storage, "NEWER", 3000, 100);
  storage.setStatus("NEWER", "complete");
  storage.setStatus("OLD", "error");           // finishing later does not make it newer
  appendLines(storage, "RUNNING", 2000, 100);  // 264,000 more: OLD goes, NEWER stays
  CHECK(storage.readLog("OLD", 0, SIZE_MAX) == std::vector<std::string>{std::string(kDropped)});
  CHECK(storage.readLog("NEWER", 0, SIZE_MAX).size() == 3000);
  CHECK(storage.readLog("RUNNING", 0, SIZE_MAX).size() == 2000);
  CHECK(storage.getJob("OLD"));  // the record stays
  CHECK(storage.used() <= (1u << 20));
}

TEST_CASE("with nothing finished left, new jobs are refused and running lines dropped once",
          "[plugins][memory][limit]") {
  MemoryStorage storage(1 << 20);
  storage.createJob(dray::test::jobRecord("A"));
  storage.createJob(dray::test::jobRecord("B"));
  appendLines(storage, "A", 10000, 100);  // more than the limit
  appendLines(storage, "B", 10, 10);
  auto a = storage.readLog("A", 0, SIZE_MAX);
  REQUIRE(a.size() < 10000);
  CHECK_THAT(a.back(), Catch::StartsWith("dray: log lines dropped: dray's memory limit (DRAY_MEMORY_LIMIT)"));
  CHECK(std::count_if(a.begin(), a.end(), [](const std::string& l) { return l.starts_with("dray:"); }) == 1);
  CHECK(storage.readLog("B", 0, SIZE_MAX).size() == 1);  // only the notice
  try {
    storage.createJob(dray::test::jobRecord("C"));
    FAIL("a job was accepted beyond the limit");
  } catch (const dray::sdk::StorageError& e) {
    CHECK_THAT(e.what(), Catch::Contains("DRAY_MEMORY_LIMIT"));
  }
  // Once a job finishes, its log makes room again: for new jobs and for the running one.
  storage.setStatus("A", "complete");
  storage.createJob(dray::test::jobRecord("C"));
  appendLines(storage, "B", 10, 10);
  CHECK(storage.readLog("A", 0, SIZE_MAX) == std::vector<std::string>{std::string(kDropped)});
  CHECK(storage.readLog("B", 0, SIZE_MAX).size() == 11);
}

TEST_CASE("memory-limit is whole bytes, at least 1 MiB", "[plugins][memory][limit]") {
  using dray::plugins::storage::memory::parseMemoryLimit;
  CHECK(parseMemoryLimit("268435456") == 268435456u);
  for (const char* bad : {"", "1k", "-5", "1000", "12 "}) {
    INFO(bad);
    CHECK_THROWS_AS(parseMemoryLimit(bad), dray::sdk::ConfigError);
  }
}

// --- Retention (issue 15): DRAY_MAX_JOBS, DRAY_KEY_TTL, DRAY_REMOVE_DONE ---

namespace {

using dray::plugins::storage::memory::MemoryStorageOptions;
using Lines = std::vector<std::string>;

// A clock the test moves by hand.
struct ManualClock {
  std::chrono::steady_clock::time_point now{std::chrono::hours(1)};
  MemoryStorageOptions options(std::chrono::seconds ttl) {
    MemoryStorageOptions result;
    result.retention.key_ttl = ttl;
    result.now = [this] { return now; };
    return result;
  }
};

// Resident memory of this process, from /proc/self/statm (pages).
std::size_t residentBytes() {
  std::size_t size = 0, resident = 0;
  if (FILE* statm = std::fopen("/proc/self/statm", "r")) {
    if (std::fscanf(statm, "%zu %zu", &size, &resident) != 2) resident = 0;
    std::fclose(statm);
  }
  return resident * static_cast<std::size_t>(::sysconf(_SC_PAGESIZE));
}

}  // namespace

TEST_CASE("max-jobs: beyond it the job that finished first goes, whole", "[plugins][memory][retention]") {
  MemoryStorageOptions options;
  options.max_jobs = 2;
  MemoryStorage storage(options);
  for (const char* id : {"A", "B", "C", "D", "RUN"}) storage.createJob(dray::test::jobRecord(id));
  storage.appendLog("B", {"b's line"});
  storage.setOutput("B", "b's output");
  storage.setStatus("B", "complete");  // B finishes first though it was made after A
  storage.setStatus("A", "error");
  CHECK(storage.listJobs() == Lines{"A", "B", "C", "D", "RUN"});
  const std::size_t before = storage.used();
  storage.setStatus("C", "canceled");  // a third finished job: B goes
  CHECK_FALSE(storage.getJob("B"));
  CHECK(storage.readLog("B", 0, SIZE_MAX).empty());
  CHECK_FALSE(storage.readOutput("B"));
  CHECK(storage.used() < before);  // its bytes are given back
  CHECK(storage.listJobs() == Lines{"A", "C", "D", "RUN"});
  storage.setStatus("D", "complete");
  CHECK(storage.listJobs() == Lines{"C", "D", "RUN"});  // running jobs never count
  CHECK(storage.size() == 3);
  CHECK(storage.deleteJob("C"));  // a deleted job leaves room: nothing else goes
  storage.createJob(dray::test::jobRecord("E"));
  storage.setStatus("E", "complete");
  CHECK(storage.listJobs() == Lines{"D", "RUN", "E"});
}

TEST_CASE("max-jobs 0 keeps every finished job", "[plugins][memory][retention]") {
  MemoryStorageOptions options;
  options.max_jobs = 0;
  MemoryStorage storage(options);
  for (int i = 0; i < 20; ++i) {
    storage.createJob(dray::test::jobRecord(std::to_string(i)));
    storage.setStatus(std::to_string(i), "complete");
  }
  CHECK(storage.size() == 20);
}

TEST_CASE("DRAY_MAX_JOBS=200 bounds memory: 1,000 jobs of 100 KiB logs each", "[plugins][memory][retention][rss]") {
  MemoryStorageOptions options;
  options.max_jobs = 200;
  MemoryStorage storage(options);
  const std::size_t rss_before = residentBytes();
  const std::string line(1000, 'x');
  const std::vector<std::string_view> batch(103, line);  // 103,000 bytes: a bit over 100 KiB per job
  std::size_t peak = rss_before;
  for (int i = 0; i < 1000; ++i) {
    const std::string id = "JOB-" + std::to_string(i);
    storage.createJob(dray::test::jobRecord(id, 1, R"({"steps":[{"source":"dray-test/busybox"}]})"));
    storage.appendLog(id, batch);
    storage.setOutput(id, std::string_view(line).substr(0, 100));
    storage.setStatus(id, i % 3 == 0 ? "error" : "complete");
    if (i % 50 == 49) peak = std::max(peak, residentBytes());
  }
  const std::size_t rss_after = residentBytes();
  std::printf(
      "memory storage, DRAY_MAX_JOBS=200, 1,000 finished jobs of 103,000 log bytes each: RSS %.1f MiB before, "
      "%.1f MiB after (peak seen %.1f MiB), %zu jobs held, %.1f MiB counted\n",
      rss_before / 1048576.0, rss_after / 1048576.0, peak / 1048576.0, storage.size(), storage.used() / 1048576.0);
  CHECK(storage.size() == 200);
  for (int i = 0; i < 800; ++i) REQUIRE_FALSE(storage.getJob("JOB-" + std::to_string(i)));
  for (int i = 800; i < 1000; ++i) REQUIRE(storage.readLog("JOB-" + std::to_string(i), 0, SIZE_MAX).size() == 103);
  CHECK(storage.listJobs().front() == "JOB-800");
  if (!dray::test::sanitized()) CHECK(rss_after < (100u << 20));  // ASan's shadow memory inflates RSS
}

TEST_CASE("key TTL: a job goes that long after its last write, on reads and on writes",
          "[plugins][memory][retention]") {
  ManualClock clock;
  MemoryStorage storage(clock.options(std::chrono::seconds(60)));
  storage.createJob(dray::test::jobRecord("OLD"));
  storage.createJob(dray::test::jobRecord("NEW"));
  storage.appendLog("OLD", {"line"});
  storage.setOutput("OLD", "out");
  const std::size_t both = storage.used();
  clock.now += std::chrono::seconds(30);
  storage.setStatus("NEW", "complete");  // NEW's last write: now
  clock.now += std::chrono::seconds(29);
  CHECK(storage.getJob("OLD"));  // 59 s after its last write
  clock.now += std::chrono::seconds(1);
  CHECK_FALSE(storage.getJob("OLD"));  // 60 s: gone, found on a read
  CHECK(storage.readLog("OLD", 0, SIZE_MAX).empty());
  CHECK_FALSE(storage.readOutput("OLD"));
  CHECK(storage.listJobs() == Lines{"NEW"});
  CHECK(storage.used() < both);
  clock.now += std::chrono::seconds(29);
  storage.setStep("NEW", 0, {});  // a write renews it
  clock.now += std::chrono::seconds(59);
  CHECK(storage.getJob("NEW"));
  clock.now += std::chrono::seconds(1);
  storage.createJob(dray::test::jobRecord("THIRD"));  // a write to another job sweeps too
  CHECK(storage.size() == 1);
  storage.setStatus("NEW", "complete");  // a write to an expired job does not bring it back
  CHECK_FALSE(storage.getJob("NEW"));
  CHECK(storage.listJobs() == Lines{"THIRD"});
}

TEST_CASE("remove-done with max-jobs: unlisted jobs still count and go first", "[plugins][memory][retention]") {
  MemoryStorageOptions options;
  options.max_jobs = 1;
  options.retention.remove_done = true;
  MemoryStorage storage(options);
  storage.createJob(dray::test::jobRecord("A"));
  storage.createJob(dray::test::jobRecord("B"));
  storage.setStatus("A", "complete");
  CHECK(storage.listJobs() == Lines{"B"});
  CHECK(storage.getJob("A")->status == "complete");
  storage.setStatus("B", "canceled");
  CHECK(storage.listJobs().empty());
  CHECK_FALSE(storage.getJob("A"));
  CHECK(storage.getJob("B"));
}

TEST_CASE("max-jobs is a whole number, and the retention settings are checked", "[plugins][memory][retention]") {
  using dray::plugins::storage::parseKeyTtl;
  using dray::plugins::storage::parseRemoveDone;
  using dray::plugins::storage::memory::parseMaxJobs;
  CHECK(parseMaxJobs("10000") == 10000u);
  CHECK(parseMaxJobs("0") == 0u);
  for (const char* bad : {"", "-1", "1e3", "ten", "5 ", "99999999999"}) {
    INFO(bad);
    CHECK_THROWS_WITH(parseMaxJobs(bad), Catch::Contains("DRAY_MAX_JOBS"));
  }
  CHECK(parseKeyTtl("0") == std::chrono::seconds(0));
  CHECK(parseKeyTtl("3600") == std::chrono::seconds(3600));
  for (const char* bad : {"", "-1", "1h", "1.5", "99999999999999"}) {
    INFO(bad);
    CHECK_THROWS_WITH(parseKeyTtl(bad), Catch::Contains("DRAY_KEY_TTL"));
  }
  for (const char* yes : {"true", "TRUE", "1", "t", "yes", "on"}) CHECK(parseRemoveDone(yes));
  for (const char* no : {"", "false", "0", "F", "no", "off"}) CHECK_FALSE(parseRemoveDone(no));
  CHECK_THROWS_WITH(parseRemoveDone("maybe"), Catch::Contains("DRAY_REMOVE_DONE"));
}

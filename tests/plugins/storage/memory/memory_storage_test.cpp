#include "plugins/storage/memory/memory_storage.hpp"

#include <algorithm>
#include <thread>

#include <catch2/catch.hpp>

#include "tests/fakes/job_records.hpp"

#include "dray/sdk/errors.hpp"
#include "plugins/storage/memory/memory_accounting.hpp"

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

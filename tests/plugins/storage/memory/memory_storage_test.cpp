#include "memory_storage.hpp"

#include <thread>

#include <catch2/catch.hpp>

#include "job_records.hpp"

#include "dray/sdk/errors.hpp"

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

#include "job_log.hpp"

#include <catch2/catch.hpp>

#include "job_records.hpp"

#include "memory_storage.hpp"

using dray::core::JobLogger;
using dray::core::JobLogWriter;

TEST_CASE("stdout and stderr lines reach the job log in arrival order", "[core][joblog]") {
  dray::plugins::storage::memory::MemoryStorage storage;
  storage.createJob(dray::test::jobRecord("J", 1, "{}"));
  dray::core::JobLogBudget budget{1 << 20};
  JobLogWriter writer(storage, "J", budget);
  writer.onStdout("out 1\nout");
  writer.onStderr("err 1\n");
  writer.onStdout(" 2\n");
  writer.onStderr("tail without newline");
  writer.finish();
  JobLogger(storage, "J").warn("a note");
  CHECK(storage.readLog("J", 0, SIZE_MAX) ==
        std::vector<std::string>{"out 1", "err 1", "out 2", "tail without newline", "dray: a note"});
}

TEST_CASE("over-long log lines are split and marked", "[core][joblog]") {
  dray::plugins::storage::memory::MemoryStorage storage;
  storage.createJob(dray::test::jobRecord("J", 1, "{}"));
  dray::core::JobLogBudget budget{1 << 20};
  JobLogWriter writer(storage, "J", budget);
  writer.onStdout(std::string(64 * 1024 + 10, 'x') + "\n");
  writer.finish();
  auto lines = storage.readLog("J", 0, SIZE_MAX);
  REQUIRE(lines.size() == 2);
  CHECK(lines[0] == std::string(64 * 1024, 'x') + std::string(dray::core::kContinuedMarker));
  CHECK(lines[1] == std::string(10, 'x'));
}

TEST_CASE("output beyond the log budget is dropped after one notice", "[core][joblog]") {
  dray::plugins::storage::memory::MemoryStorage storage;
  storage.createJob(dray::test::jobRecord("J", 2, "{}"));
  dray::core::JobLogBudget budget{10};
  {
    JobLogWriter step1(storage, "J", budget);
    step1.onStdout("12345\n678\n");
    step1.finish();
  }
  JobLogWriter step2(storage, "J", budget);  // two writers may share one budget
  step2.onStdout("abc\nmore\n");
  step2.onStderr("and more\n");
  step2.finish();
  auto lines = storage.readLog("J", 0, SIZE_MAX);
  REQUIRE(lines.size() == 3);
  CHECK(lines[0] == "12345");
  CHECK(lines[1] == "678");
  CHECK_THAT(lines[2], Catch::StartsWith("dray: log limit reached"));
}

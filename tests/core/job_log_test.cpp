#include "core/job_log.hpp"

#include <catch2/catch.hpp>

#include "core/secret_masker.hpp"
#include "tests/fakes/job_records.hpp"

#include "plugins/storage/memory/memory_storage.hpp"

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
  using dray::core::kLogLineOverhead;
  dray::plugins::storage::memory::MemoryStorage storage;
  storage.createJob(dray::test::jobRecord("J", 2, "{}"));
  // Exactly the first two lines: their bytes plus the per-line overhead each.
  dray::core::JobLogBudget budget{5 + 3 + 2 * kLogLineOverhead};
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
  CHECK_THAT(lines[2], Catch::StartsWith("dray: log limit reached (DRAY_LOG_LIMIT)"));
  CHECK(budget.lines_logged == 2);
}

TEST_CASE("empty lines are not free: a flood of newlines stays bounded", "[core][joblog]") {
  dray::plugins::storage::memory::MemoryStorage storage;
  storage.createJob(dray::test::jobRecord("J", 1, "{}"));
  dray::core::JobLogBudget budget{1000 * dray::core::kLogLineOverhead};
  JobLogWriter writer(storage, "J", budget);
  const std::string flood(64 * 1024, '\n');
  for (int i = 0; i < 16; ++i) writer.onStdout(flood);  // a million empty lines
  writer.finish();
  auto lines = storage.readLog("J", 0, SIZE_MAX);
  REQUIRE(lines.size() == 1001);
  CHECK(lines[999].empty());
  CHECK_THAT(lines[1000], Catch::StartsWith("dray: log limit reached"));
}

TEST_CASE("the job budget spans all steps and says once that it is spent", "[core][joblog]") {
  using dray::core::JobLogBudget;
  dray::plugins::storage::memory::MemoryStorage storage;
  storage.createJob(dray::test::jobRecord("J", 3, "{}"));
  const std::size_t line = 9 + dray::core::kLogLineOverhead;  // "step N xx"
  JobLogBudget job{5 * line};
  for (int step = 1; step <= 3; ++step) {
    JobLogBudget budget{3 * line, &job};  // each step alone would log three lines
    JobLogWriter writer(storage, "J", budget);
    for (int i = 0; i < 3; ++i) writer.onStdout("step " + std::to_string(step) + " " + std::to_string(10 + i) + "\n");
    writer.finish();
  }
  using V = std::vector<std::string>;
  auto lines = storage.readLog("J", 0, SIZE_MAX);
  REQUIRE(lines.size() == 6);
  CHECK(V(lines.begin(), lines.begin() + 5) == V{"step 1 10", "step 1 11", "step 1 12", "step 2 10", "step 2 11"});
  CHECK_THAT(lines[5], Catch::StartsWith("dray: job log limit reached (DRAY_JOB_LOG_LIMIT)"));
  CHECK(job.lines_logged == 5);
  CHECK(job.exhausted);
}

TEST_CASE("a step's own limit is reported before the job's", "[core][joblog]") {
  using dray::core::JobLogBudget;
  dray::plugins::storage::memory::MemoryStorage storage;
  storage.createJob(dray::test::jobRecord("J", 2, "{}"));
  JobLogBudget job{1 << 20};
  {
    JobLogBudget budget{dray::core::kLogLineOverhead + 1, &job};
    JobLogWriter writer(storage, "J", budget);
    writer.onStdout("a\nb\n");
    writer.finish();
  }
  JobLogBudget budget{1 << 20, &job};
  JobLogWriter writer(storage, "J", budget);
  writer.onStdout("c\n");
  writer.finish();
  auto lines = storage.readLog("J", 0, SIZE_MAX);
  REQUIRE(lines.size() == 3);
  CHECK(lines[0] == "a");
  CHECK_THAT(lines[1], Catch::StartsWith("dray: log limit reached"));
  CHECK(lines[2] == "c");  // the next step logs again: only the job budget spans steps
  CHECK_FALSE(job.exhausted);
}

TEST_CASE("a secret across the 64 KiB cut of an over-long line is still masked whole", "[core][joblog][secrets]") {
  const std::string secret = "s3cr3t-API-key-XYZ";
  dray::core::SecretMasker masker({secret});
  for (std::size_t before : std::vector<std::size_t>{65530, 65536 - secret.size(), 65535, 65536, 65536 * 2 - 7}) {
    INFO("secret starts at " << before);
    dray::plugins::storage::memory::MemoryStorage storage;
    storage.createJob(dray::test::jobRecord("J", 1, "{}"));
    dray::core::JobLogBudget budget{8 << 20};
    JobLogWriter writer(storage, "J", budget, &masker);
    const std::string line = std::string(before, 'a') + secret + std::string(100, 'b') + "\n";
    for (std::size_t at = 0; at < line.size(); at += 4096) writer.onStderr(std::string_view(line).substr(at, 4096));
    writer.finish();
    std::string joined;
    for (auto piece : storage.readLog("J", 0, SIZE_MAX)) {
      if (piece.size() >= dray::core::kContinuedMarker.size() &&
          piece.compare(piece.size() - dray::core::kContinuedMarker.size(), std::string::npos,
                        dray::core::kContinuedMarker) == 0) {
        piece.resize(piece.size() - dray::core::kContinuedMarker.size());
      }
      joined += piece;
    }
    CHECK(joined.find("s3cr3t") == std::string::npos);
    CHECK(joined.find("XYZ") == std::string::npos);
    CHECK(joined.find("***") != std::string::npos);
    // Nothing else is lost: every 'a' and 'b' is still there.
    CHECK(std::count(joined.begin(), joined.end(), 'a') == static_cast<long>(before));
    CHECK(std::count(joined.begin(), joined.end(), 'b') == 100);
  }
}

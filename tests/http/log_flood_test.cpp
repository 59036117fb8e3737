// Issue #13, part 5: a flood of log lines never exhausts memory (real dray, real engine).
// Cases tagged [redis-too] also run on Redis storage (DRAY_TEST_STORAGE=redis).
#include <algorithm>
#include <cstdio>
#include <memory>

#include <catch2/catch.hpp>

#include "tests/http/script_step.hpp"
#include "tests/support/test_support.hpp"

using dray::test::DrayProcess;
using dray::test::EnvMap;
using dray::test::scriptStep;
using namespace std::chrono_literals;
using Lines = std::vector<std::string>;

namespace {

constexpr std::size_t kMiB = 1024 * 1024;
constexpr std::size_t kLineCost = 32;  // core's kLogLineOverhead: what a line costs beyond its bytes

std::size_t countStarting(const Lines& lines, const std::string& prefix) {
  return static_cast<std::size_t>(
      std::count_if(lines.begin(), lines.end(), [&](const std::string& l) { return l.starts_with(prefix); }));
}

}  // namespace

TEST_CASE("60 MiB of newlines: bounded log, bounded memory, the output still flows", "[e2e][flood][redis-too]") {
  // On Redis the test runs its own server, to count the list's entries itself.
  std::unique_ptr<dray::test::RedisServer> redis;
  EnvMap env{{"LOG_LEVEL", "info"}};
  if (dray::test::testStorage() == "redis") {
    redis = std::make_unique<dray::test::RedisServer>();
    env = {{"LOG_LEVEL", "info"}, {"DRAY_STORAGE", "redis"}, {"REDIS_URL", redis->url()}};
  }
  DrayProcess dray(env);
  const std::string id = dray.submit(R"({"steps":[)" + scriptStep("head -c 62914560 /dev/zero | tr '\\0' '\\n'") + "," +
                                     scriptStep("wc -l") + "]}");
  INFO(dray.log());
  REQUIRE(dray.waitForJob(id, 300s) == "complete");
  const Lines lines = dray.logLines(id);
  // DRAY_LOG_LIMIT (8 MiB) pays for 262,144 empty lines, then one notice; step 2 counts all.
  const std::size_t logged = 8 * kMiB / kLineCost;
  INFO(lines.size() << " log lines");
  CHECK(lines.size() == logged + 2);
  CHECK(countStarting(lines, "dray: log limit reached") == 1);
  CHECK(lines.back() == "62914560");
  if (redis) CHECK(std::stoul(redis->cli("LLEN jobs:" + id + ":log")) == lines.size());
  const std::size_t peak = dray.peakRss();
  std::printf("log flood: dray's peak RSS after 60 MiB of newlines was %zu MiB\n", peak / kMiB);
  CHECK(peak > 0);
  // ASan's shadow memory and quarantine inflate resident memory: the bound holds without sanitizers.
  if (!dray::test::sanitized()) CHECK(peak < 64 * kMiB);
}

TEST_CASE("DRAY_JOB_LOG_LIMIT spans all steps, and after it output still flows", "[e2e][flood][redis-too]") {
  DrayProcess dray(EnvMap{{"DRAY_JOB_LOG_LIMIT", "1048576"}});
  // 15,000 six-digit lines cost 15,000 * (6 + 32) bytes: step 2 crosses the job's 1 MiB.
  const std::string id = dray.submit(R"({"steps":[)" + scriptStep("seq 100001 115000") + "," +
                                     scriptStep("test $(wc -l) -eq 15000 && seq 200001 215000") + "," +
                                     scriptStep("test $(wc -l) -eq 15000 && echo step 3 ran") + "]}");
  INFO(dray.log());
  REQUIRE(dray.waitForJob(id, 120s) == "complete");  // step 3 saw all of step 2's output
  const Lines lines = dray.logLines(id);
  const std::size_t step2_logged = (kMiB - 15000 * (6 + kLineCost)) / (6 + kLineCost);
  CHECK(lines.size() == 15000 + step2_logged + 1);
  CHECK(countStarting(lines, "dray: job log limit reached (DRAY_JOB_LOG_LIMIT)") == 1);
  CHECK_THAT(lines.back(), Catch::StartsWith("dray: job log limit reached"));
  CHECK(std::find(lines.begin(), lines.end(), "step 3 ran") == lines.end());
}

TEST_CASE("DRAY_MEMORY_LIMIT drops the oldest finished log, then refuses jobs", "[e2e][flood][memory-limit]") {
  DrayProcess dray(EnvMap{{"DRAY_STORAGE", "memory"}, {"DRAY_MEMORY_LIMIT", "2097152"}});
  INFO(dray.log());
  // Each job logs 30,000 * 38 bytes, about 1.1 MiB: two do not fit in 2 MiB.
  const std::string job = R"({"steps":[)" + scriptStep("seq 100001 130000") + "]}";
  const std::string first = dray.submit(job);
  REQUIRE(dray.waitForJob(first) == "complete");
  CHECK(dray.logLines(first).size() == 30000);
  const std::string second = dray.submit(job);
  REQUIRE(dray.waitForJob(second) == "complete");
  CHECK(dray.logLines(second).size() == 30000);
  CHECK(dray.logLines(first) == Lines{"dray: log dropped: dray's memory limit (DRAY_MEMORY_LIMIT) was reached"});
  CHECK(dray.get("/jobs/" + first).json()->getValue<std::string>("status") == "complete");  // the record stays

  // A running job that outgrows what is left: the second log goes, then its own lines stop.
  const std::string greedy = dray.submit(R"({"steps":[)" + scriptStep("seq 100001 160000; sleep 120") + "]}");
  const std::string dropped = "dray: log lines dropped: dray's memory limit (DRAY_MEMORY_LIMIT)";
  REQUIRE(dray::test::waitUntil([&] { return countStarting(dray.logLines(greedy), dropped) == 1; }, 60s, 250ms));
  auto refused = dray.post("/jobs", job);
  CHECK(refused.status == 503);
  CHECK_THAT(refused.body, Catch::Contains("DRAY_MEMORY_LIMIT"));
  CHECK(dray.logLines(second).size() == 1);
  // Once it ends, its log is the oldest finished one: jobs are taken again.
  REQUIRE(dray.post("/jobs/" + greedy + "/cancel", "").status / 100 == 2);
  REQUIRE(dray.waitForJob(greedy, 60s) == "canceled");
  CHECK(dray.post("/jobs", job).status == 201);
}

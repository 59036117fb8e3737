// Redis paused (SIGSTOP) while dray writes: a 5xx means nothing happened, and no job is
// left `running` with nothing behind it. Real dray, real Redis, real engine.
#include <chrono>
#include <thread>

#include <catch2/catch.hpp>

#include "tests/http/script_step.hpp"
#include "tests/support/test_support.hpp"

using namespace dray::test;
using Clock = std::chrono::steady_clock;

namespace {

double secondsSince(Clock::time_point start) { return std::chrono::duration<double>(Clock::now() - start).count(); }

std::string sleeper(int seconds) { return scriptStep("echo started; sleep " + std::to_string(seconds)); }

struct RedisDray {
  RedisServer redis;
  DrayProcess dray{EnvMap{{"DRAY_STORAGE", "redis"}, {"REDIS_URL", redis.url()}}};
};

}  // namespace

TEST_CASE("POST /jobs while Redis is paused answers 503 and the job never appears", "[redis][faults]") {
  RedisDray setup;
  auto& dray = setup.dray;
  setup.redis.pause();
  auto start = Clock::now();
  int refused = 0;
  for (int i = 0; i < 3; ++i) {
    auto result = dray.post("/jobs", R"({"steps":[{"source":"dray-test/upper"}]})");
    refused += result.status == 503;
  }
  const double took = secondsSince(start);
  std::printf("redis faults: 3 POST /jobs against a paused Redis answered 503 x%d in %.1f s\n", refused, took);
  CHECK(refused == 3);
  setup.redis.resume();
  // The commands sent meanwhile now run on Redis: past their deadline, they do nothing.
  CHECK(waitUntil([&] { return dray.get("/healthz").status == 200; }, 20s));
  std::this_thread::sleep_for(std::chrono::seconds(1));  // let queued commands drain (nothing must appear)
  CHECK(dray.get("/jobs").body == "[]");
  // No job's key (the node's lease and the nodes' queue are not a job's).
  const std::string job_keys = setup.redis.cli(
      "EVAL \"local n = 0 for _, k in ipairs(redis.call('KEYS', 'jobs:*')) do "
      "if k ~= 'jobs:queue' and string.sub(k, 1, 11) ~= 'jobs:nodes:' then n = n + 1 end end "
      "return n\" 0");
  CHECK(job_keys == "0\n");
  CHECK(setup.redis.cli("XLEN jobs:queue") == "0\n");  // nothing queued for a node either
  // And dray works normally again.
  std::string id = dray.submit(R"({"steps":[{"source":"dray-test/upper"}]})");
  CHECK(dray.waitForJob(id) == "complete");
}

TEST_CASE("DELETE while Redis is paused answers 503 and the job is still there afterwards", "[redis][faults]") {
  RedisDray setup;
  auto& dray = setup.dray;
  std::string id = dray.submit(R"({"steps":[{"source":"dray-test/upper"}]})");
  REQUIRE(dray.waitForJob(id) == "complete");
  setup.redis.pause();
  auto result = dray.del("/jobs/" + id);
  CHECK(result.status == 503);
  setup.redis.resume();
  CHECK(waitUntil([&] { return dray.get("/healthz").status == 200; }, 20s));
  std::this_thread::sleep_for(std::chrono::seconds(1));
  CHECK(dray.get("/jobs/" + id).status == 200);  // the 503 was true: not deleted
  CHECK(dray.del("/jobs/" + id).status == 204);
  CHECK(dray.get("/jobs/" + id).status == 404);
}

TEST_CASE("cancel while Redis is paused is true: the job ends canceled once Redis is back", "[redis][faults]") {
  RedisDray setup;
  auto& dray = setup.dray;
  std::string id = dray.submit("{\"steps\":[" + sleeper(120) + "]}");
  REQUIRE(waitUntil([&] { return dray.logLines(id).size() == 1; }, 30s));
  setup.redis.pause();
  auto start = Clock::now();
  auto result = dray.post("/jobs/" + id + "/cancel", "");
  std::printf("redis faults: cancel with Redis paused answered %d in %.2f s\n", result.status, secondsSince(start));
  CHECK(result.status == 202);  // the runner holds the job: canceling needs no storage
  CHECK(waitUntil([&] { return containersOfJob(id).empty(); }, 30s));  // the container went at once
  setup.redis.resume();
  CHECK(dray.waitForJob(id, 30s) == "canceled");
  CHECK(dray.get("/metrics").body.find("dray_jobs_running 0") != std::string::npos);
}

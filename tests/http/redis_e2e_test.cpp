// dray on Redis storage, as a black box: compatibility with the original's records,
// a clean refusal when Redis is missing, and a Redis outage in the middle of a job.
#include <catch2/catch.hpp>

#include "tests/support/test_support.hpp"

using dray::test::DrayProcess;
using dray::test::EnvMap;
using dray::test::RedisServer;
using Lines = std::vector<std::string>;

TEST_CASE("records seeded in the original's shape are served by the API", "[redis][compat]") {
  RedisServer redis;
  // Exactly what the original wrote: totalSteps as a raw character, status "" until started.
  redis.cli("RPUSH jobs 51E0E756-A6B4-9CC7-67BD-364970C2268C 26C4A46D-C615-E978-521F-A0D8FDD80801");
  // redis-cli -x reads the last argument from stdin: the raw bytes 0x03 and 0x01.
  dray::test::shell("printf '\\003' | redis-cli -p " + std::to_string(redis.port()) +
                    " -x HSET jobs:51E0E756-A6B4-9CC7-67BD-364970C2268C totalSteps");
  dray::test::shell("printf '\\001' | redis-cli -p " + std::to_string(redis.port()) +
                    " -x HSET jobs:26C4A46D-C615-E978-521F-A0D8FDD80801 totalSteps");
  CHECK(redis.cli("--no-raw HGET jobs:51E0E756-A6B4-9CC7-67BD-364970C2268C totalSteps") == "\"\\x03\"\n");
  redis.cli("HSET jobs:51E0E756-A6B4-9CC7-67BD-364970C2268C completedSteps 2 status complete");
  redis.cli("HSET jobs:26C4A46D-C615-E978-521F-A0D8FDD80801 completedSteps 0 status ''");
  redis.cli("RPUSH jobs:51E0E756-A6B4-9CC7-67BD-364970C2268C:log 'Standard output line 1' 'Standard error line 1'");
  DrayProcess dray(EnvMap{{"DRAY_STORAGE", "redis"}, {"REDIS_URL", redis.url()}});
  INFO(dray.log());
  CHECK(dray.get("/jobs").body ==
        R"([{"id":"51E0E756-A6B4-9CC7-67BD-364970C2268C"},{"id":"26C4A46D-C615-E978-521F-A0D8FDD80801"}])");
  CHECK_THAT(dray.get("/jobs/51E0E756-A6B4-9CC7-67BD-364970C2268C").body,
             Catch::StartsWith(R"({"id":"51E0E756-A6B4-9CC7-67BD-364970C2268C","stepsCompleted":2,"status":"complete",)"
                               R"("state":"complete","totalSteps":3,)"));
  CHECK_THAT(dray.get("/jobs/26C4A46D-C615-E978-521F-A0D8FDD80801").body,
             Catch::StartsWith(R"({"id":"26C4A46D-C615-E978-521F-A0D8FDD80801","stepsCompleted":0,"status":"",)"
                               R"("state":"","totalSteps":1,)"));
  CHECK(dray.logLines("51E0E756-A6B4-9CC7-67BD-364970C2268C") ==
        Lines{"Standard output line 1", "Standard error line 1"});
  CHECK(dray.logLines("51E0E756-A6B4-9CC7-67BD-364970C2268C", 1) == Lines{"Standard error line 1"});
  CHECK(dray.del("/jobs/51E0E756-A6B4-9CC7-67BD-364970C2268C").status == 204);
  CHECK(redis.cli("EXISTS jobs:51E0E756-A6B4-9CC7-67BD-364970C2268C jobs:51E0E756-A6B4-9CC7-67BD-364970C2268C:log") ==
        "0\n");
}

TEST_CASE("a job run on Redis is stored in the original's schema", "[redis][compat]") {
  RedisServer redis;
  DrayProcess dray(EnvMap{{"REDIS_PORT", "tcp://127.0.0.1:" + std::to_string(redis.port())}});  // selects redis
  std::string id = dray.submit(
      R"({"steps":[{"source":"dray-test/randword","environment":[{"variable":"WORD_COUNT","value":"2"}]},{"source":"dray-test/upper"}]})");
  INFO(dray.log());
  CHECK(dray.waitForJob(id) == "complete");
  CHECK(redis.cli("LRANGE jobs 0 -1") == id + "\n");
  CHECK(redis.cli("HGET jobs:" + id + " totalSteps") == "2\n");
  CHECK(redis.cli("HGET jobs:" + id + " completedSteps") == "2\n");
  CHECK(redis.cli("HGET jobs:" + id + " status") == "complete\n");
  CHECK(redis.cli("LRANGE jobs:" + id + ":log 0 -1") == "alpha\nbravo\nALPHA\nBRAVO\n");
}

TEST_CASE("dray refuses to start when Redis is unreachable", "[redis][outage]") {
  std::string log;
  dray::test::ClosedPort unreachable;
  int code =
      DrayProcess::runExpectingFailure(EnvMap{{"DRAY_STORAGE", "redis"},
                                              {"REDIS_URL", "redis://127.0.0.1:" + std::to_string(unreachable.port())},
                                              {"DRAY_STORAGE_REDIS_STARTUP_WAIT_S", "1"}},
                                       log);
  INFO(log);
  CHECK(code == 1);
  CHECK_THAT(log, Catch::Contains(
                      "dray cannot start: storage plugin 'redis' failed to start: cannot reach Redis at 127.0.0.1:"));
}

TEST_CASE("Redis lost while a job runs: no crash, every line kept, status ends right", "[redis][outage]") {
  RedisServer redis;
  DrayProcess dray(EnvMap{{"DRAY_STORAGE", "redis"}, {"REDIS_URL", redis.url()}});
  std::string id = dray.submit(R"({"steps":[{"source":"dray-test/script","environment":[{"variable":"SCRIPT","value":
      "i=0; while [ $i -lt 60 ]; do echo line $i; i=$((i+1)); sleep 0.05; done"}]},{"source":"dray-test/upper"}]})");
  INFO(dray.log());
  REQUIRE(
      dray::test::waitUntil([&] { return redis.cli("LLEN jobs:" + id + ":log") != "0\n"; }, std::chrono::seconds(20)));
  redis.stop();
  REQUIRE(dray::test::waitUntil([&] { return dray.log().find("keeping writes queued") != std::string::npos; },
                                std::chrono::seconds(20)));
  CHECK(dray.running());
  redis.start();
  CHECK(dray.waitForJob(id, std::chrono::seconds(60)) == "complete");
  auto lines = dray.logLines(id);
  REQUIRE(lines.size() == 120);
  for (int i = 0; i < 60; ++i) {
    CHECK(lines[i] == "line " + std::to_string(i));
    CHECK(lines[60 + i] == "LINE " + std::to_string(i));
  }
}

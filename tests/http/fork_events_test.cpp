// The production fork's Redis additions, on the real dray binary, a real redis-server and a
// real subscriber (issue 15): a fork client's PSUBSCRIBE <id>:* hears each step start, each
// completed step and the end, in that order; DRAY_JOBS_KEY, DRAY_KEY_TTL, DRAY_REMOVE_DONE;
// and the memory storage's retention settings.
#include <algorithm>
#include <regex>

#include <catch2/catch.hpp>

#include "tests/http/script_step.hpp"
#include "tests/plugins/storage/redis/redis_subscriber.hpp"
#include "tests/support/test_support.hpp"

namespace {

using dray::test::DrayProcess;
using dray::test::EnvMap;
using dray::test::RedisServer;
using dray::test::RedisSubscriber;
using Lines = std::vector<std::string>;

// Three steps; the first sleeps, so a subscriber that subscribes after POST answered hears
// every later step start. The last step's output is "OLLEH".
std::string threeStepJob() {
  return R"({"steps":[)" + dray::test::scriptStep("sleep 1; echo hello") +
         R"(,{"source":"dray-test/upper"},{"source":"dray-test/reverse"}]})";
}

EnvMap onRedis(const RedisServer& redis, EnvMap extra = {}) {
  extra.emplace("DRAY_STORAGE", "redis");
  extra.emplace("REDIS_URL", redis.url());
  return extra;
}

// Every key Redis holds, sorted.
Lines keysOf(const RedisServer& redis) {
  std::string text = dray::test::shell("redis-cli -p " + std::to_string(redis.port()) + " --scan | LC_ALL=C sort");
  Lines keys;
  for (std::size_t at = 0; at < text.size();) {
    const std::size_t end = text.find('\n', at);
    keys.push_back(text.substr(at, end - at));
    at = end == std::string::npos ? text.size() : end + 1;
  }
  return keys;
}

// Where in `heard` the message (channel, payload) is first; heard.size() if never.
std::size_t indexOf(const RedisSubscriber::Messages& heard, const std::string& channel, const std::string& payload) {
  for (std::size_t i = 0; i < heard.size(); ++i) {
    if (heard[i].channel == channel && heard[i].payload == payload) return i;
  }
  return heard.size();
}

bool listed(const DrayProcess& dray, const std::string& id) {
  return dray.get("/jobs").body.find(id) != std::string::npos;
}

}  // namespace

TEST_CASE("a fork client's PSUBSCRIBE <id>:* hears step starts, completed steps, then complete",
          "[redis][fork-events]") {
  RedisServer redis;
  DrayProcess dray(onRedis(redis));
  const std::string id = dray.submit(threeStepJob());
  RedisSubscriber subscriber(redis.port(), id + ":*");  // as the fork's client: after POST answered
  INFO(dray.log());
  REQUIRE(subscriber.waitFor(id + ":status", "complete", std::chrono::seconds(60)));
  // Heard the end: the log is complete and readable at once.
  CHECK(dray.logLines(id) == Lines{"hello", "HELLO", "OLLEH"});
  const auto heard = subscriber.messages();
  INFO(dray::test::describe(heard));
  const std::size_t upper = indexOf(heard, id + ":executeStep", "dray-test/upper");
  const std::size_t one = indexOf(heard, id + ":completedSteps", "1");
  const std::size_t two = indexOf(heard, id + ":completedSteps", "2");
  const std::size_t reverse = indexOf(heard, id + ":executeStep", "dray-test/reverse");
  const std::size_t three = indexOf(heard, id + ":completedSteps", "3");
  const std::size_t complete = indexOf(heard, id + ":status", "complete");
  CHECK(one < upper);  // step 1 ran while the subscriber joined: its end is heard
  CHECK(upper < two);
  CHECK(two < reverse);
  CHECK(reverse < three);
  CHECK(three < complete);
  CHECK(complete < heard.size());
  for (const auto& message : heard) {
    CHECK_THAT(message.channel, Catch::StartsWith(id + ":"));  // bare id, no key prefix
    if (message.channel == id + ":status") CHECK(message.payload != "error");
  }
}

TEST_CASE("a canceled job publishes status canceled", "[redis][fork-events]") {
  RedisServer redis;
  DrayProcess dray(onRedis(redis));
  const std::string id = dray.submit(R"({"steps":[)" + dray::test::scriptStep("sleep 60") + "]}");
  RedisSubscriber subscriber(redis.port(), id + ":*");
  INFO(dray.log());
  REQUIRE(dray::test::waitUntil([&] { return !dray::test::containersOfJob(id, "running").empty(); },
                                std::chrono::seconds(30)));
  CHECK(dray.post("/jobs/" + id + "/cancel", "").status == 202);
  CHECK(subscriber.waitFor(id + ":status", "canceled", std::chrono::seconds(30)));
  INFO(dray::test::describe(subscriber.messages()));
  CHECK(indexOf(subscriber.messages(), id + ":status", "complete") == subscriber.messages().size());
}

TEST_CASE("DRAY_JOBS_KEY=custom: every key is custom:*, channels stay <id>:*", "[redis][fork-events]") {
  RedisServer redis;
  DrayProcess dray(onRedis(redis, {{"DRAY_JOBS_KEY", "custom"}}));
  const std::string id = dray.submit(threeStepJob());
  RedisSubscriber subscriber(redis.port(), id + ":*");
  INFO(dray.log());
  REQUIRE(subscriber.waitFor(id + ":status", "complete", std::chrono::seconds(60)));
  const Lines keys = keysOf(redis);
  INFO(redis.cli("KEYS '*'"));
  for (const auto& key : keys) CHECK_THAT(key, Catch::StartsWith("custom"));
  for (const std::string& key : Lines{"custom", "custom:" + id, "custom:" + id + ":log",
                                      "custom:" + id + ":description", "custom:" + id + ":steps"}) {
    CHECK(std::find(keys.begin(), keys.end(), key) != keys.end());
  }
  CHECK(redis.cli("LRANGE custom 0 -1") == id + "\n");
  CHECK(redis.cli("HGET custom:" + id + " status") == "complete\n");
  CHECK(listed(dray, id));
  CHECK(dray.logLines(id) == Lines{"hello", "HELLO", "OLLEH"});
  CHECK(dray.del("/jobs/" + id).status == 204);
  // Only the node's own lease (custom:nodes:<DRAY_INSTANCE>) and the nodes' shared queue
  // (custom:queue) are left (docs/scaling.md).
  Lines left = keysOf(redis);
  std::sort(left.begin(), left.end());
  REQUIRE(left.size() == 2);
  CHECK_THAT(left[0], Catch::StartsWith("custom:nodes:"));
  CHECK(left[1] == "custom:queue");
}

TEST_CASE("DRAY_KEY_TTL=60: every key of a job has a TTL of 1 to 60 s", "[redis][fork-events]") {
  RedisServer redis;
  DrayProcess dray(onRedis(redis, {{"DRAY_KEY_TTL", "60"}}));
  const std::string id = dray.submit(threeStepJob());
  INFO(dray.log());
  REQUIRE(dray.waitForJob(id) == "complete");
  dray::test::waitUntil([] { return false; }, std::chrono::milliseconds(200));  // let the last writes land
  std::size_t job_keys = 0;
  for (const auto& key : keysOf(redis)) {
    INFO(key);
    const long ttl = std::stol(redis.cli("TTL " + key));
    if (key == "jobs" || key == "jobs:queue") {
      CHECK(ttl == -1);  // the shared list and the nodes' queue do not expire
      continue;
    }
    ++job_keys;
    CHECK(ttl > 0);
    CHECK(ttl <= 60);
  }
  CHECK(job_keys >= 4);  // hash, log, description, steps (and output once the host writes it)
  CHECK(listed(dray, id));
}

TEST_CASE("DRAY_REMOVE_DONE=1: an ended job leaves GET /jobs, GET /jobs/{id} still works", "[redis][fork-events]") {
  RedisServer redis;
  DrayProcess dray(onRedis(redis, {{"DRAY_REMOVE_DONE", "1"}}));
  const std::string running = dray.submit(R"({"steps":[)" + dray::test::scriptStep("sleep 60") + "]}");
  const std::string id = dray.submit(threeStepJob());
  INFO(dray.log());
  REQUIRE(dray.waitForJob(id) == "complete");
  REQUIRE(dray::test::waitUntil([&] { return !listed(dray, id); }, std::chrono::seconds(5)));
  CHECK(listed(dray, running));
  auto job = dray.get("/jobs/" + id);
  CHECK(job.status == 200);
  CHECK(job.json()->getValue<std::string>("status") == "complete");
  CHECK(dray.logLines(id) == Lines{"hello", "HELLO", "OLLEH"});
  CHECK(redis.cli("LRANGE jobs 0 -1") == running + "\n");
  CHECK(dray.del("/jobs/" + id).status == 204);
}

TEST_CASE("bad retention settings stop dray at start-up, naming the variable", "[redis][fork-events]") {
  RedisServer redis;
  for (const auto& [variable, value] : std::vector<std::pair<std::string, std::string>>{
           {"DRAY_KEY_TTL", "1h"}, {"DRAY_REMOVE_DONE", "sometimes"}, {"DRAY_JOBS_KEY", "my jobs"}}) {
    std::string log;
    const int code = DrayProcess::runExpectingFailure(onRedis(redis, {{variable, value}}), log);
    INFO(log);
    CHECK(code == 1);
    CHECK_THAT(log, Catch::Contains("storage plugin 'redis' failed to start") && Catch::Contains(variable));
  }
  std::string log;
  const int code = DrayProcess::runExpectingFailure(EnvMap{{"DRAY_STORAGE", "memory"}, {"DRAY_MAX_JOBS", "lots"}}, log);
  INFO(log);
  CHECK(code == 1);
  CHECK_THAT(log, Catch::Contains("storage plugin 'memory' failed to start") && Catch::Contains("DRAY_MAX_JOBS"));
}

TEST_CASE("memory storage: DRAY_MAX_JOBS drops the oldest finished job, DRAY_REMOVE_DONE unlists",
          "[memory][fork-events]") {
  DrayProcess dray(EnvMap{{"DRAY_STORAGE", "memory"}, {"DRAY_MAX_JOBS", "1"}, {"DRAY_REMOVE_DONE", "true"}});
  INFO(dray.log());
  const std::string first = dray.submit(R"({"steps":[)" + dray::test::scriptStep("echo one") + "]}");
  REQUIRE(dray.waitForJob(first) == "complete");
  CHECK_FALSE(listed(dray, first));
  CHECK(dray.get("/jobs/" + first).status == 200);
  const std::string second = dray.submit(R"({"steps":[)" + dray::test::scriptStep("echo two") + "]}");
  REQUIRE(dray.waitForJob(second) == "complete");
  CHECK(dray.get("/jobs/" + first).status == 404);  // one finished job is kept: the newer
  CHECK(dray.get("/jobs/" + second).status == 200);
  CHECK(dray.logLines(second) == Lines{"two"});
  CHECK(dray.get("/jobs/" + second + "/output").body == "two\n");  // kept in memory too
}

// With the host's part of issue 15: core writes the last step's output and finishedIn, and
// serves GET /jobs/{id}/output.
TEST_CASE("the final output and finishedIn land in Redis as the fork kept them", "[redis][core-output]") {
  RedisServer redis;
  DrayProcess dray(onRedis(redis, {{"DRAY_KEY_TTL", "60"}}));
  const std::string id = dray.submit(threeStepJob());
  RedisSubscriber subscriber(redis.port(), id + ":*");
  INFO(dray.log());
  REQUIRE(subscriber.waitFor(id + ":status", "complete", std::chrono::seconds(60)));
  // Heard the end: the output is there already.
  CHECK(redis.cli("GET jobs:" + id + ":output") == "OLLEH\n\n");  // redis-cli adds one newline
  const long ttl = std::stol(redis.cli("TTL jobs:" + id + ":output"));
  CHECK(ttl > 0);
  CHECK(ttl <= 60);
  const std::string finished_in = redis.cli("HGET jobs:" + id + " finishedIn");
  CHECK(std::regex_match(finished_in, std::regex(R"([0-9]+(\.[0-9]+)?\n)")));
  const auto heard = subscriber.messages();
  INFO(dray::test::describe(heard));
  CHECK(indexOf(heard, id + ":finishedIn", finished_in.substr(0, finished_in.size() - 1)) <
        indexOf(heard, id + ":status", "complete"));
  auto output = dray.get("/jobs/" + id + "/output");
  CHECK(output.status == 200);
  CHECK(output.body == "OLLEH\n");
}

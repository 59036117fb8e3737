// Redis-specific behaviour against a real redis-server: schema, addresses, AUTH/DB, outages.
#include <cstdio>
#include <thread>

#include <catch2/catch.hpp>

#include "tests/fakes/job_records.hpp"

#include "dray/sdk/errors.hpp"
#include "plugins/storage/redis/redis_address.hpp"
#include "plugins/storage/redis/redis_storage.hpp"
#include "tests/fakes/string_streams.hpp"
#include "tests/support/test_support.hpp"

namespace {

using namespace dray;
using namespace dray::plugins::storage::redis;
using Lines = std::vector<std::string>;

RedisStorageOptions quickOptions() {
  RedisStorageOptions options;
  options.startup_wait = std::chrono::seconds(2);
  return options;
}

RedisAddress local(const test::RedisServer& server) {
  RedisAddress address;
  address.port = server.port();
  return address;
}

}  // namespace

TEST_CASE("REDIS_URL and REDIS_PORT forms", "[redis][address]") {
  auto url = parseRedisUrl("redis://:s3cret@redis.local:6380/2");
  CHECK(url.host == "redis.local");
  CHECK(url.port == 6380);
  CHECK(url.password == "s3cret");
  CHECK(url.db == 2);
  CHECK(url.describe() == "redis.local:6380/2");
  CHECK(parseRedisUrl("redis://localhost").port == 6379);
  CHECK(parseRedisUrl("redis://user:pw@h:1").password == "pw");
  auto link = parseRedisPort("tcp://172.17.0.5:6379");
  CHECK(link.host == "172.17.0.5");
  CHECK(link.port == 6379);
  CHECK_THROWS_AS(parseRedisUrl("http://x"), sdk::ConfigError);
  CHECK_THROWS_AS(parseRedisUrl("redis://h/x"), sdk::ConfigError);
  CHECK_THROWS_AS(parseRedisPort("tcp://h:notaport"), sdk::ConfigError);
}

TEST_CASE("totalSteps written by the original as a raw character is understood", "[redis][schema]") {
  CHECK(parseStepCount("3") == 3);
  CHECK(parseStepCount("12") == 12);
  CHECK(parseStepCount("\x03") == 3);
  CHECK(parseStepCount("") == 0);
}

TEST_CASE("our records read back with plain Redis commands in the original's schema", "[redis][schema]") {
  test::RedisServer server;
  test::RecordingLogger logger;
  {
    RedisStorage storage(local(server), quickOptions(), logger);
    storage.createJob(dray::test::jobRecord("ABCD-1", 3, R"({"steps":[1,2,3]})"));
    storage.appendLog("ABCD-1", {"first line", "second line"});
    storage.setCompletedSteps("ABCD-1", 3);
    storage.setStatus("ABCD-1", "complete");
    storage.flush();
  }
  CHECK(server.cli("LRANGE jobs 0 -1") == "ABCD-1\n");
  CHECK(server.cli("HGET jobs:ABCD-1 totalSteps") == "3\n");
  CHECK(server.cli("HGET jobs:ABCD-1 completedSteps") == "3\n");
  CHECK(server.cli("HGET jobs:ABCD-1 status") == "complete\n");
  CHECK(server.cli("LRANGE jobs:ABCD-1:log 0 -1") == "first line\nsecond line\n");
  CHECK(server.cli("GET jobs:ABCD-1:description") == "{\"steps\":[1,2,3]}\n");
  CHECK(server.cli("TYPE jobs:ABCD-1") == "hash\n");
  CHECK(server.cli("TYPE jobs:ABCD-1:log") == "list\n");
}

TEST_CASE("deleting a job removes every key it had", "[redis][schema]") {
  test::RedisServer server;
  test::RecordingLogger logger;
  RedisStorage storage(local(server), quickOptions(), logger);
  storage.createJob(dray::test::jobRecord("DEL-1", 1, "{}"));
  storage.appendLog("DEL-1", {"x"});
  storage.flush();
  CHECK(server.cli("KEYS '*DEL-1*'") != "\n");
  CHECK(storage.deleteJob("DEL-1"));
  CHECK(server.cli("KEYS '*DEL-1*'") == "\n");
  CHECK(server.cli("LRANGE jobs 0 -1") == "\n");
}

TEST_CASE("AUTH and DB selection come from the address", "[redis][auth]") {
  test::RedisServer server({"--requirepass", "s3cret"});
  test::RecordingLogger logger;
  RedisAddress address = parseRedisUrl("redis://:s3cret@127.0.0.1:" + std::to_string(server.port()) + "/3");
  {
    RedisStorage storage(address, quickOptions(), logger);
    storage.createJob(dray::test::jobRecord("DB3", 1, "{}"));
  }
  CHECK(server.cli("-n 3 LRANGE jobs 0 -1") == "DB3\n");
  CHECK(server.cli("-n 0 LRANGE jobs 0 -1") == "\n");
  address.password = "wrong";
  CHECK_THROWS_WITH(RedisStorage(address, quickOptions(), logger), Catch::Contains("WRONGPASS"));
}

TEST_CASE("start-up fails clearly when Redis is unreachable", "[redis][outage]") {
  test::RecordingLogger logger;
  RedisAddress address;
  address.port = test::freePort();
  auto started = std::chrono::steady_clock::now();
  CHECK_THROWS_WITH(RedisStorage(address, quickOptions(), logger),
                    Catch::Contains("cannot reach Redis at 127.0.0.1:" + std::to_string(address.port)));
  const std::chrono::duration<double> took = std::chrono::steady_clock::now() - started;
  std::printf("redis storage: start-up gave up on an unreachable Redis after %.1f s\n", took.count());
  if (!test::sanitized()) CHECK(took < std::chrono::seconds(10));  // sanitizers make everything slower
}

TEST_CASE("lines written while Redis is down are kept and land in order when it returns", "[redis][outage]") {
  test::RedisServer server;
  test::RecordingLogger logger;
  RedisStorage storage(local(server), quickOptions(), logger);
  storage.createJob(dray::test::jobRecord("OUT", 1, "{}"));
  for (int i = 0; i < 500; ++i) storage.appendLog("OUT", {std::to_string(i)});
  storage.flush();
  server.stop();
  for (int i = 500; i < 1000; ++i) storage.appendLog("OUT", {std::to_string(i)});  // must not block or throw
  storage.setStatus("OUT", "complete");
  // Make sure the writer really met the outage before Redis returns.
  REQUIRE(test::waitUntil(
      [&] {
        for (const auto& m : logger.messages) {
          if (m.find("keeping writes queued") != std::string::npos) return true;
        }
        return false;
      },
      std::chrono::seconds(10)));
  server.start();
  storage.flush();
  auto lines = storage.readLog("OUT", 0, SIZE_MAX);
  REQUIRE(lines.size() == 1000);
  for (int i = 0; i < 1000; ++i) REQUIRE(lines[i] == std::to_string(i));
  CHECK(storage.getJob("OUT")->status == "complete");
}

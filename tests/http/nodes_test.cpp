// Issue 17 (part): node leases. Real dray processes on a real redis-server.
#include <unistd.h>
#include <algorithm>
#include <string>
#include <thread>

#include <Poco/JSON/Parser.h>
#include <catch2/catch.hpp>

#include "tests/support/test_support.hpp"

using dray::test::DrayProcess;
using dray::test::EnvMap;
using dray::test::RedisServer;
using dray::test::waitUntil;
using namespace std::chrono_literals;

namespace {

EnvMap nodeEnv(const RedisServer& redis, const std::string& name) {
  return {{"DRAY_STORAGE", "redis"}, {"REDIS_URL", redis.url()}, {"DRAY_INSTANCE", name}, {"DRAY_NODE_TTL", "2"}};
}

std::vector<std::string> nodeNames(const DrayProcess& dray) {
  auto answer = dray.get("/nodes");
  REQUIRE(answer.status == 200);
  auto nodes = Poco::JSON::Parser().parse(answer.body).extract<Poco::JSON::Array::Ptr>();
  std::vector<std::string> names;
  for (std::size_t i = 0; i < nodes->size(); ++i) names.push_back(nodes->getObject(i)->getValue<std::string>("name"));
  return names;
}

}  // namespace

TEST_CASE("nodes on one Redis see each other in GET /nodes, and a live node's name cannot be taken twice",
          "[e2e][nodes][redis]") {
  RedisServer redis;
  const std::string a_name = "node-a-" + std::to_string(::getpid()), b_name = "node-b-" + std::to_string(::getpid());
  DrayProcess a(nodeEnv(redis, a_name)), b(nodeEnv(redis, b_name));
  CHECK(nodeNames(a) == std::vector<std::string>{a_name, b_name});
  CHECK(nodeNames(b) == nodeNames(a));
  auto nodes = Poco::JSON::Parser().parse(a.get("/nodes").body).extract<Poco::JSON::Array::Ptr>();
  auto first = nodes->getObject(0);
  CHECK(first->getValue<unsigned>("workers") == 4);
  CHECK(first->getValue<unsigned>("running") == 0);
  CHECK(first->has("engine"));
  CHECK(first->has("heartbeat"));
  // A third process with A's name refuses to start, before it could reap A's containers.
  std::string log;
  CHECK(DrayProcess::runExpectingFailure(nodeEnv(redis, a_name), log) != 0);
  CHECK(log.find("another dray node named '" + a_name + "' is alive") != std::string::npos);
  CHECK(log.find("recovery") == std::string::npos);  // it stopped before recovery
  CHECK(a.running());
}

TEST_CASE("a node killed with -9 leaves GET /nodes within its TTL, and its name can be used again",
          "[e2e][nodes][redis]") {
  RedisServer redis;
  const std::string a_name = "node-a-" + std::to_string(::getpid()), b_name = "node-b-" + std::to_string(::getpid());
  DrayProcess a(nodeEnv(redis, a_name));
  {
    DrayProcess b(nodeEnv(redis, b_name));
    REQUIRE(nodeNames(a).size() == 2);
    b.kill();
  }
  const auto killed = std::chrono::steady_clock::now();
  REQUIRE(waitUntil([&] { return nodeNames(a).size() == 1; }, 10s, 100ms));
  CHECK(std::chrono::steady_clock::now() - killed <= 3s);  // TTL 2 s
  DrayProcess again(nodeEnv(redis, b_name));
  CHECK(nodeNames(a) == std::vector<std::string>{a_name, b_name});
}

TEST_CASE("a graceful stop gives the lease up at once", "[e2e][nodes][redis]") {
  RedisServer redis;
  const std::string a_name = "node-a-" + std::to_string(::getpid()), b_name = "node-b-" + std::to_string(::getpid());
  DrayProcess a(nodeEnv(redis, a_name));
  {
    DrayProcess b(nodeEnv(redis, b_name));
    REQUIRE(nodeNames(a).size() == 2);
    CHECK(b.stop() == 0);
  }
  CHECK(nodeNames(a) == std::vector<std::string>{a_name});  // no wait for the TTL
}

TEST_CASE("with memory storage GET /nodes lists this node alone", "[e2e][nodes]") {
  DrayProcess dray(EnvMap{{"DRAY_STORAGE", "memory"}, {"DRAY_INSTANCE", "solo-" + std::to_string(::getpid())}});
  CHECK(nodeNames(dray) == std::vector<std::string>{"solo-" + std::to_string(::getpid())});
}

TEST_CASE("a node whose Redis is paused past DRAY_NODE_TTL stops its running jobs, then takes its lease again",
          "[e2e][nodes][redis]") {
  RedisServer redis;
  const std::string name = "node-fence-" + std::to_string(::getpid());
  DrayProcess dray(nodeEnv(redis, name));  // TTL 2 s
  const std::string id = dray.submit(
      R"({"steps":[{"source":"dray-test/script","environment":[{"variable":"SCRIPT","value":"sleep 3600"}]}]})");
  REQUIRE(waitUntil([&] { return !dray::test::containersOfJob(id, "running").empty(); }, 60s, 100ms));
  redis.pause();
  std::this_thread::sleep_for(3500ms);  // longer than the TTL: the lease may be another node's now
  redis.resume();
  REQUIRE(dray.waitForJob(id, 60s) == "error");
  const auto lines = dray.logLines(id);
  CHECK(std::any_of(lines.begin(), lines.end(), [&](const std::string& line) {
    return line.find("node " + name + " lost its lease") != std::string::npos;
  }));
  CHECK(waitUntil([&] { return dray::test::containersOfJob(id).empty(); }, 30s));
  REQUIRE(waitUntil([&] { return nodeNames(dray) == std::vector<std::string>{name}; }, 10s, 100ms));  // taken again
  CHECK(dray.running());
}

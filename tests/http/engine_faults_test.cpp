// A wedged engine never hangs dray: the real dray binary talks to the real engine through
// a proxy that stalls chosen requests (kill, remove, list) or freezes attach streams.
#include <algorithm>
#include <chrono>
#include <thread>

#include <catch2/catch.hpp>

#include "tests/http/script_step.hpp"
#include "tests/support/test_support.hpp"
#include "tests/tools/engine_proxy.hpp"

using namespace dray::test;
using Clock = std::chrono::steady_clock;

namespace {

double secondsSince(Clock::time_point start) { return std::chrono::duration<double>(Clock::now() - start).count(); }

std::string sleeper(int seconds, const std::string& extra = "") {
  return scriptStep("echo started; sleep " + std::to_string(seconds), extra);
}

// The proxy on its own socket in front of the machine's engine.
struct ProxiedEngine {
  TempDir dir;
  EngineProxy proxy{"/var/run/docker.sock", dir.path() + "/engine.sock"};
  ProxiedEngine() { proxy.start(); }
  EnvMap env(EnvMap extra = {}) const {
    extra.emplace("DOCKER_HOST", proxy.address());
    extra.emplace("DRAY_KILL_GRACE", "2");
    extra.emplace("DRAY_ENGINE_TIMEOUT", "3");
    return extra;
  }
};

// Slowest GET /jobs/{id} while `until` is false, polled every 50 ms.
double slowestGet(const DrayProcess& dray, const std::string& id, const std::function<bool()>& until,
                  std::chrono::seconds limit) {
  double slowest = 0;
  auto deadline = Clock::now() + limit;
  while (!until() && Clock::now() < deadline) {
    auto start = Clock::now();
    dray.get("/jobs/" + id);
    slowest = std::max(slowest, secondsSince(start));
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  return slowest;
}

std::string status(const DrayProcess& dray, const std::string& id) {
  return dray.get("/jobs/" + id).json()->getValue<std::string>("status");
}

std::size_t unremoved(const DrayProcess& dray) {
  const std::string metrics = dray.get("/metrics").body;
  auto at = metrics.find("\ndray_containers_unremoved ");
  return at == std::string::npos ? 999 : std::stoul(metrics.substr(at + 27));
}

}  // namespace

TEST_CASE("cancel ends a job whose kill the engine ignores, within the kill grace", "[engine][faults]") {
  ProxiedEngine engine;
  DrayProcess dray(engine.env());
  std::string id = dray.submit("{\"steps\":[" + sleeper(120) + "]}");
  REQUIRE(waitUntil([&] { return dray.logLines(id).size() == 1; }, 30s));
  auto kills = engine.proxy.stall("POST", "^/containers/[0-9a-f]+/kill$");
  auto removes = engine.proxy.stall("DELETE", "^/containers/[0-9a-f]+$");
  auto start = Clock::now();
  REQUIRE(dray.post("/jobs/" + id + "/cancel", "").status == 202);
  double slowest = slowestGet(
      dray, id, [&] { return status(dray, id) != "running"; }, 30s);
  const double took = secondsSince(start);
  std::printf(
      "engine faults: cancel with the kill stalled ended the job after %.2f s (kill grace 2 s); "
      "slowest GET /jobs/{id} meanwhile %.0f ms\n",
      took, slowest * 1000);
  INFO(dray.log());
  CHECK(status(dray, id) == "canceled");
  if (!sanitized()) {  // times are printed above; sanitizers make everything slower
    CHECK(took < 2 + 2);
    CHECK(slowest < 0.1);
  }
  CHECK(engine.proxy.matched(kills) >= 1);
  auto lines = dray.logLines(id);
  CHECK(std::any_of(lines.begin(), lines.end(),
                    [](const std::string& l) { return l.find("dray: the engine did not stop container") == 0; }));
  CHECK(waitUntil([&] { return engine.proxy.matched(removes) >= 1; }, 10s));  // the reaper is on it
  CHECK(unremoved(dray) == 1);
  // The engine recovers: the held kill and removal go through, the reaper finishes.
  engine.proxy.releaseAll();
  auto released = Clock::now();
  CHECK(waitUntil([&] { return containersOfJob(id).empty() && unremoved(dray) == 0; }, 90s));
  std::printf("engine faults: the reaper removed the container %.1f s after the engine recovered\n",
              secondsSince(released));
  CHECK(dray.running());
}

TEST_CASE("a step timeout fires on time when the attach stream and the kill both hang", "[engine][faults]") {
  ProxiedEngine engine;
  DrayProcess dray(engine.env());
  std::string id = dray.submit("{\"steps\":[" + sleeper(120, R"(,"timeout":2)") + "]}");
  REQUIRE(waitUntil([&] { return dray.logLines(id).size() == 1; }, 30s));
  auto start = Clock::now();
  engine.proxy.freezeStreams();
  engine.proxy.stall("POST", "^/containers/[0-9a-f]+/kill$");
  engine.proxy.stall("DELETE", "^/containers/[0-9a-f]+$");
  CHECK(dray.waitForJob(id, 30s) == "error");
  const double took = secondsSince(start);
  std::printf("engine faults: a 2 s step timeout with a frozen stream and a stalled kill ended the job after %.2f s\n",
              took);
  INFO(dray.log());
  if (!sanitized()) CHECK(took < 2 + 2 + 2);
  CHECK_THAT(dray.logLines(id).back(), Catch::Contains("timed out after 2 s"));
  engine.proxy.releaseAll();
  CHECK(waitUntil([&] { return containersOfJob(id).empty(); }, 90s));
}

TEST_CASE("SIGTERM returns in bounded time while the engine ignores kills and removals", "[engine][faults]") {
  ProxiedEngine engine;
  DrayProcess dray(engine.env({{"DRAY_SHUTDOWN_GRACE", "1"}}));
  std::string id = dray.submit("{\"steps\":[" + sleeper(120) + "]}");
  REQUIRE(waitUntil([&] { return dray.logLines(id).size() == 1; }, 30s));
  engine.proxy.stall("POST", "^/containers/[0-9a-f]+/kill$");
  engine.proxy.stall("DELETE", "^/containers/[0-9a-f]+$");
  auto start = Clock::now();
  int code = dray.stop();
  const double took = secondsSince(start);
  std::printf(
      "engine faults: SIGTERM with kills and removals stalled returned after %.2f s (grace 1 s + kill grace 2 s)\n",
      took);
  CHECK(code == 0);
  if (!sanitized()) CHECK(took < 1 + 2 + 5);
  CHECK_THAT(dray.log(), Catch::Contains("abandoning 1 containers the engine would not remove"));
  engine.proxy.releaseAll();
  // The next start of this instance removes what was abandoned (here the test cleans up).
  for (const auto& container : containersOfJob(id)) shell("docker rm -f " + container + " >/dev/null 2>&1");
}

TEST_CASE("start-up serves the API at once while the engine stalls recovery", "[engine][faults]") {
  ProxiedEngine engine;
  engine.proxy.stall("GET", "^/containers/json$");  // recovery lists this instance's containers
  auto start = Clock::now();
  DrayProcess dray(engine.env());
  auto listed = dray.get("/jobs");
  const double took = secondsSince(start);
  std::printf("engine faults: with recovery stalled, the API answered %d %.2f s after launch\n", listed.status, took);
  CHECK(listed.status == 200);
  if (!sanitized()) CHECK(took < 1.0);
  // A job is accepted at once but waits until recovery is done.
  std::string id = dray.submit(R"({"steps":[{"source":"dray-test/upper"}]})");
  CHECK(dray.get("/jobs/" + id).json()->getValue<std::string>("state") == "queued");
  engine.proxy.releaseAll();
  CHECK(dray.waitForJob(id, 60s) == "complete");
  CHECK_THAT(dray.log(), Catch::Contains("recovery: done"));
}

// Cancel, timeouts, queue limits, shutdown, restart recovery, engine trouble, bounded memory
// and load, against the real dray binary and the real engine (CTest label "e2e").
#include <csignal>
#include <cstdio>
#include <thread>

#include <catch2/catch.hpp>

#include "tests/support/test_support.hpp"

using dray::test::containersOfJob;
using dray::test::DrayProcess;
using dray::test::EnvMap;
using dray::test::RedisServer;
using dray::test::waitUntil;
using namespace std::chrono_literals;

namespace {

std::string sleeper(double seconds, const std::string& extra = "") {
  return R"({"source":"dray-test/script","environment":[{"variable":"SCRIPT","value":"echo started; sleep )" +
         std::to_string(seconds) + R"("}])" + extra + "}";
}

std::string state(const DrayProcess& dray, const std::string& id) {
  return dray.get("/jobs/" + id).json()->getValue<std::string>("state");
}

bool containerRunning(const std::string& id) { return containersOfJob(id, "running").size() == 1; }

std::string lastLine(const DrayProcess& dray, const std::string& id) {
  auto lines = dray.logLines(id);
  return lines.empty() ? "" : lines.back();
}

}  // namespace

TEST_CASE("cancel stops the running step, removes its container and skips the rest", "[e2e][cancel]") {
  DrayProcess dray;
  std::string id = dray.submit(R"({"steps":[)" + sleeper(120) + "," + sleeper(1) + "]}");
  REQUIRE(waitUntil([&] { return containerRunning(id); }, 20s));
  // Step 2's container is created (not started) while step 1 runs; cancel removes both.
  REQUIRE(waitUntil([&] { return containersOfJob(id, "created").size() == 1; }, 20s));
  auto answer = dray.post("/jobs/" + id + "/cancel", "");
  CHECK(answer.status == 202);
  CHECK(dray.waitForJob(id, 30s) == "canceled");
  CHECK(state(dray, id) == "canceled");
  CHECK(dray.get("/jobs/" + id).json()->getValue<int>("stepsCompleted") == 0);
  CHECK_THAT(lastLine(dray, id), Catch::Contains("canceled during step 1"));
  CHECK(containersOfJob(id).empty());
  CHECK(dray.post("/jobs/" + id + "/cancel", "").status == 409);
  CHECK(dray.post("/jobs/NOPE/cancel", "").status == 404);
}

TEST_CASE("a queued job shows as queued and cancels at once", "[e2e][cancel]") {
  DrayProcess dray(EnvMap{{"DRAY_WORKERS", "1"}});
  std::string busy = dray.submit(R"({"steps":[)" + sleeper(120) + "]}");
  std::string waiting = dray.submit(R"({"steps":[)" + sleeper(1) + "]}");
  REQUIRE(waitUntil([&] { return state(dray, busy) == "running"; }, 20s));
  auto view = dray.get("/jobs/" + waiting).json();
  CHECK(view->getValue<std::string>("state") == "queued");
  CHECK(view->getValue<std::string>("status") == "running");  // what the original's clients expect
  CHECK(dray.post("/jobs/" + waiting + "/cancel", "").status == 202);
  CHECK(dray.get("/jobs/" + waiting).json()->getValue<std::string>("status") == "canceled");
  CHECK_THAT(lastLine(dray, waiting), Catch::Contains("canceled before it started"));
  CHECK(dray.post("/jobs/" + busy + "/cancel", "").status == 202);
  CHECK(dray.waitForJob(busy, 30s) == "canceled");
  CHECK(containersOfJob(busy).empty());
}

TEST_CASE("DELETE of a running job cancels it first and leaves no container", "[e2e][cancel]") {
  DrayProcess dray;
  std::string id = dray.submit(R"({"steps":[)" + sleeper(120) + "]}");
  REQUIRE(waitUntil([&] { return containerRunning(id); }, 20s));
  CHECK(dray.del("/jobs/" + id).status == 204);
  CHECK(containersOfJob(id).empty());
  CHECK(dray.get("/jobs/" + id).status == 404);
}

TEST_CASE("a step timeout kills the step and fails the job with the reason", "[e2e][timeout]") {
  DrayProcess dray;
  auto started = std::chrono::steady_clock::now();
  std::string id = dray.submit(R"({"steps":[)" + sleeper(120, R"(,"timeout":1)") + "," + sleeper(1) + "]}");
  CHECK(dray.waitForJob(id, 60s) == "error");
  const std::chrono::duration<double> took = std::chrono::steady_clock::now() - started;
  std::printf("reliability: a job with a 1 s step timeout failed after %.1f s\n", took.count());
  if (!dray::test::sanitized()) CHECK(took < 30s);  // sanitizers make everything slower
  CHECK_THAT(lastLine(dray, id), Catch::Contains("step 1 (dray-test/script) failed: timed out after 1 s"));
  CHECK(containersOfJob(id).empty());
}

TEST_CASE("a job deadline spans steps, and DRAY_STEP_TIMEOUT is the default", "[e2e][timeout]") {
  DrayProcess dray(EnvMap{{"DRAY_STEP_TIMEOUT", "1.5"}});
  // Each step alone fits the deadline; together they do not.
  std::string deadline = dray.submit(R"({"deadline":5,"steps":[)" + sleeper(3, R"(,"timeout":10)") + "," +
                                     sleeper(3, R"(,"timeout":10)") + "]}");
  std::string fallback = dray.submit(R"({"steps":[)" + sleeper(60) + "]}");
  CHECK(dray.waitForJob(deadline, 60s) == "error");
  CHECK_THAT(lastLine(dray, deadline), Catch::Contains("step 2 (dray-test/script) failed: job deadline of 5 s passed"));
  CHECK(dray.waitForJob(fallback, 60s) == "error");
  CHECK_THAT(lastLine(dray, fallback), Catch::Contains("timed out after 1.5 s"));
  CHECK(containersOfJob(deadline).empty());
  CHECK(containersOfJob(fallback).empty());
}

TEST_CASE("a full queue answers 429 with Retry-After", "[e2e][queue]") {
  DrayProcess dray(EnvMap{{"DRAY_WORKERS", "1"}, {"DRAY_QUEUE", "1"}});
  std::string running = dray.submit(R"({"steps":[)" + sleeper(120) + "]}");
  REQUIRE(waitUntil([&] { return state(dray, running) == "running"; }, 20s));
  std::string queued = dray.submit(R"({"steps":[)" + sleeper(1) + "]}");
  auto refused = dray.post("/jobs", R"({"steps":[)" + sleeper(1) + "]}");
  CHECK(refused.status == 429);
  CHECK(std::stoi(refused.headers.at("Retry-After")) >= 1);
  CHECK_THAT(refused.json()->getValue<std::string>("error"), Catch::Contains("too many jobs queued"));
  CHECK(state(dray, queued) == "queued");
}

TEST_CASE("SIGTERM gives running jobs the grace period, then cancels them", "[e2e][shutdown]") {
  RedisServer redis;  // the outcome must outlive the process
  std::string quick, slow;
  {
    DrayProcess dray(EnvMap{{"REDIS_URL", redis.url()}, {"DRAY_SHUTDOWN_GRACE", "4"}});
    quick = dray.submit(R"({"steps":[)" + sleeper(1) + "]}");
    slow = dray.submit(R"({"steps":[)" + sleeper(120) + "]}");
    REQUIRE(waitUntil([&] { return containerRunning(quick) && containerRunning(slow); }, 20s));
    CHECK(dray.stop() == 0);
  }
  CHECK(redis.cli("HGET jobs:" + quick + " status") == "complete\n");
  CHECK(redis.cli("HGET jobs:" + slow + " status") == "error\n");
  CHECK_THAT(redis.cli("LRANGE jobs:" + slow + ":log -1 -1"), Catch::Contains("interrupted: dray shut down"));
  CHECK(containersOfJob(quick).empty());
  CHECK(containersOfJob(slow).empty());
}

TEST_CASE("after kill -9, a restart removes the orphans and ends interrupted jobs as error", "[e2e][recovery]") {
  RedisServer redis;
  EnvMap env{{"REDIS_URL", redis.url()}, {"DRAY_INSTANCE", "recovery-" + std::to_string(redis.port())}};
  std::string id, done;
  {
    DrayProcess first(env);
    done = first.submit(R"({"steps":[{"source":"dray-test/upper"}]})");
    REQUIRE(first.waitForJob(done) == "complete");
    id = first.submit(R"({"steps":[)" + sleeper(120) + "," + sleeper(1) + "]}");
    REQUIRE(waitUntil([&] { return containerRunning(id) && first.logLines(id).size() == 1; }, 20s));
    REQUIRE(waitUntil([&] { return containersOfJob(id, "created").size() == 1; }, 20s));  // step 2, made ahead
    first.kill();
  }
  CHECK(containersOfJob(id).size() == 2);  // the dead process could not clean up
  DrayProcess second(env);
  // Recovery runs beside the API, which answers at once: wait for it to finish.
  CHECK(waitUntil([&] { return second.log().find("recovery: done") != std::string::npos; }, 30s));
  INFO(second.log());
  CHECK(containersOfJob(id).empty());
  auto job = second.get("/jobs/" + id).json();
  CHECK(job->getValue<std::string>("status") == "error");
  CHECK_THAT(lastLine(second, id), Catch::Contains("interrupted: dray stopped while this job was running"));
  CHECK(second.get("/jobs/" + done).json()->getValue<std::string>("status") == "complete");  // untouched
  CHECK(second.logLines(id).front() == "started");                                           // no record lost
}

TEST_CASE("with the engine unreachable jobs fail clearly, the API stays up, /healthz says why", "[e2e][engine]") {
  DrayProcess dray(EnvMap{{"DOCKER_HOST", "unix:///tmp/dray-no-engine.sock"}});
  std::string id = dray.submit(R"({"steps":[{"source":"dray-test/upper"}]})");
  CHECK(dray.waitForJob(id) == "error");
  CHECK_THAT(lastLine(dray, id), Catch::Contains("Docker engine at unix:///tmp/dray-no-engine.sock failed"));
  auto health = dray.get("/healthz");
  CHECK(health.status == 503);
  CHECK_FALSE(health.json()->getObject("engine")->getValue<bool>("ok"));
  CHECK(health.json()->getObject("storage")->getValue<bool>("ok"));
  CHECK(dray.running());
}

TEST_CASE("/healthz reports engine and storage reachability", "[e2e][engine]") {
  RedisServer redis;
  DrayProcess dray(EnvMap{{"REDIS_URL", redis.url()}});
  auto healthy = dray.get("/healthz");
  CHECK(healthy.status == 200);
  CHECK(healthy.json()->getValue<std::string>("status") == "ok");
  CHECK(healthy.json()->getObject("engine")->getValue<bool>("ok"));
  redis.stop();
  auto broken = dray.get("/healthz");
  CHECK(broken.status == 503);
  CHECK_FALSE(broken.json()->getObject("storage")->getValue<bool>("ok"));
  redis.start();
  CHECK(waitUntil([&] { return dray.get("/healthz").status == 200; }, 20s));
}

TEST_CASE("1 GiB through a 2-step job keeps dray's peak RSS under 64 MiB", "[e2e][memory]") {
  DrayProcess dray(EnvMap{{"LOG_LEVEL", "info"}});
  std::string id = dray.submit(R"({"steps":[
      {"source":"dray-test/script","environment":[{"variable":"SCRIPT","value":"head -c 1073741824 /dev/zero"}]},
      {"source":"dray-test/script","environment":[{"variable":"SCRIPT","value":"wc -c"}]}]})");
  INFO(dray.log());
  CHECK(dray.waitForJob(id, 600s) == "complete");
  auto lines = dray.logLines(id);
  CHECK(lines.back() == "1073741824");
  CHECK(std::count_if(lines.begin(), lines.end(),
                      [](const std::string& l) { return l.rfind("dray: log limit", 0) == 0; }) == 1);
  std::size_t peak = dray.peakRss();
  std::printf("reliability: dray's peak RSS after 1 GiB through 2 steps was %zu MiB\n", peak / (1024 * 1024));
  CHECK(peak > 0);
  // ASan's shadow memory and quarantine inflate resident memory: the bound holds without sanitizers.
  if (!dray::test::sanitized()) CHECK(peak < 64u * 1024 * 1024);
}

TEST_CASE("200 short jobs on 8 workers all complete and leave no container", "[e2e][load]") {
  DrayProcess dray(EnvMap{{"DRAY_WORKERS", "8"}, {"LOG_LEVEL", "info"}});
  std::vector<std::string> ids;
  for (int i = 0; i < 200; ++i)
    ids.push_back(dray.submit(
        R"({"steps":[{"source":"dray-test/randword","environment":[{"variable":"WORD_COUNT","value":"2"}]}]})"));
  INFO(dray.log());
  for (const auto& id : ids) {
    REQUIRE(dray.waitForJob(id, 600s) == "complete");
    CHECK(dray.logLines(id).size() == 2);
  }
  for (const auto& id : ids) CHECK(containersOfJob(id).empty());
  CHECK(dray.get("/healthz").json()->getValue<int>("running") == 0);
}

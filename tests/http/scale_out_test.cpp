// Scale-out (issue 17): nodes on two Docker engines sharing one Redis and its queue. Real
// binaries, a real redis-server, the machine's engine and a second dockerd started here.
#include <map>
#include <set>

#include <catch2/catch.hpp>

#include "tests/support/second_engine.hpp"
#include "tests/support/test_support.hpp"

namespace {

using dray::test::ContainerCreations;
using dray::test::DrayProcess;
using dray::test::EnvMap;
using dray::test::RedisServer;
using dray::test::SecondEngine;
using dray::test::waitUntil;
using namespace std::chrono_literals;
using Lines = std::vector<std::string>;

const std::vector<std::string> kImages = {"dray-test/busybox", "dray-test/script"};

EnvMap nodeEnv(const RedisServer& redis, const std::string& name, const std::string& workers,
               const std::string& docker_host = "") {
  EnvMap env{{"DRAY_STORAGE", "redis"},
             {"REDIS_URL", redis.url()},
             {"DRAY_INSTANCE", name},
             {"DRAY_WORKERS", workers},
             {"DRAY_NODE_TTL", "2"}};
  if (!docker_host.empty()) env["DOCKER_HOST"] = docker_host;
  return env;
}

std::string scriptJob(const std::string& name, const std::string& script, bool rerun = false) {
  return R"({"name":")" + name + R"(",)" + (rerun ? R"("rerunOnNodeLoss":true,)" : "") +
         R"("steps":[{"source":"dray-test/script","environment":[{"variable":"SCRIPT","value":")" + script +
         R"("}]}]})";
}

std::string field(const DrayProcess& dray, const std::string& id, const std::string& name) {
  auto job = dray.get("/jobs/" + id);
  if (job.status != 200) return "";
  auto object = job.json();
  return object->has(name) ? object->getValue<std::string>(name) : "";
}

bool waitForField(const DrayProcess& dray, const std::string& id, const std::string& name, const std::string& value,
                  std::chrono::milliseconds timeout = 60s) {
  return waitUntil([&] { return field(dray, id, name) == value; }, timeout, 50ms);
}

std::size_t countOf(const std::vector<std::string>& ids, const std::string& id) {
  return static_cast<std::size_t>(std::count(ids.begin(), ids.end(), id));
}

}  // namespace

TEST_CASE("100 jobs posted alternately to two nodes on two engines each run once, on one engine", "[scale][e2e]") {
  RedisServer redis;
  SecondEngine engine2(kImages);
  ContainerCreations created1("");
  ContainerCreations created2(engine2.host());
  DrayProcess a(nodeEnv(redis, "scale-a-" + std::to_string(::getpid()), "3"));
  DrayProcess b(nodeEnv(redis, "scale-b-" + std::to_string(::getpid()), "3", engine2.host()));
  INFO(a.log() << "\n--- node b ---\n" << b.log());
  std::vector<std::string> ids;
  for (int i = 0; i < 100; ++i) {
    const DrayProcess& node = i % 2 == 0 ? a : b;
    ids.push_back(node.submit(scriptJob("job-" + std::to_string(i), "echo job-" + std::to_string(i))));
  }
  std::map<std::string, int> ran_on;
  for (int i = 0; i < 100; ++i) {
    INFO("job " << i);
    REQUIRE(a.waitForJob(ids[i], 120s) == "complete");
    CHECK(b.logLines(ids[i]) == Lines{"job-" + std::to_string(i)});  // any node serves any job
    ++ran_on[field(a, ids[i], "node")];
  }
  CHECK(ran_on.size() == 2);  // both nodes ran jobs, and no job is without a node
  for (const auto& [node, count] : ran_on) {
    INFO(node);
    CHECK(count > 10);
  }
  const auto on_engine1 = created1.jobs();
  const auto on_engine2 = created2.jobs();
  for (const auto& id : ids) {
    INFO(id << " ran on " << field(a, id, "node"));
    const bool on_a = field(a, id, "node").rfind("scale-a-", 0) == 0;
    CHECK(countOf(on_engine1, id) == (on_a ? 1u : 0u));
    CHECK(countOf(on_engine2, id) == (on_a ? 0u : 1u));
    CHECK(dray::test::containersOfJob(id).empty());
  }
  CHECK(engine2.docker("ps -aq") == "");
  CHECK(redis.cli("XLEN jobs:queue") == "0\n");  // every entry acknowledged and removed
}

TEST_CASE("a node killed with -9: its running jobs end error or run again elsewhere, waiting ones run elsewhere",
          "[scale][e2e]") {
  RedisServer redis;
  SecondEngine engine2(kImages);
  const std::string name_b = "lost-b-" + std::to_string(::getpid());
  ContainerCreations created2(engine2.host());
  auto b = std::make_unique<DrayProcess>(nodeEnv(redis, name_b, "3", engine2.host()));
  INFO(b->log());
  // B's three workers run the job with secrets and the next two; the last two wait in the
  // queue. (The job with secrets first: it goes to B's own queue, not through the shared one,
  // so B's next read of the shared queue already counts the worker it took.)
  const std::string secret = b->submit(
      R"({"name":"secret","secrets":[{"variable":"KEY","value":"k-0123456789"}],"steps":[{"source":"dray-test/script",)"
      R"("environment":[{"variable":"SCRIPT","value":"echo key=$KEY; sleep 30"}]}]})");
  REQUIRE(waitForField(*b, secret, "state", "running"));
  CHECK(field(*b, secret, "node") == name_b);
  const std::string normal = b->submit(scriptJob("normal", "echo start; sleep 30; echo end"));
  const std::string rerun = b->submit(scriptJob("rerun", "echo run; sleep 3; echo rerun-done", true));
  REQUIRE(waitForField(*b, normal, "state", "running"));
  REQUIRE(waitForField(*b, rerun, "state", "running"));
  const std::string waiting1 = b->submit(scriptJob("waiting-1", "echo w1"));
  const std::string waiting2 = b->submit(scriptJob("waiting-2", "echo w2"));
  CHECK(field(*b, waiting1, "state") == "queued");
  CHECK(field(*b, waiting1, "node") == "");
  REQUIRE(waitUntil([&] { return b->logLines(normal) == Lines{"start"}; }, 30s));

  ContainerCreations created1("");
  DrayProcess a(nodeEnv(redis, "lost-a-" + std::to_string(::getpid()), "2"));
  INFO(a.log());
  // A's two workers take the waiting jobs.
  CHECK(a.waitForJob(waiting1) == "complete");
  CHECK(a.waitForJob(waiting2) == "complete");
  CHECK(field(a, waiting1, "node") == "lost-a-" + std::to_string(::getpid()));

  const auto killed = std::chrono::steady_clock::now();
  b->kill();
  // Within the TTL (2 s) and 5 s: the running job ends error, the opted-in one runs again.
  REQUIRE(waitForField(a, normal, "status", "error", 7s));
  const double took = std::chrono::duration<double>(std::chrono::steady_clock::now() - killed).count();
  std::printf("scale-out: a killed node's running job ended %.1f s after the kill (TTL 2 s)\n", took);
  CHECK(a.logLines(normal).back() == "dray: node " + name_b + " was lost while this job was running");
  REQUIRE(waitForField(a, secret, "status", "error", 7s));
  CHECK(a.logLines(secret).back() == "dray: node " + name_b +
                                         " was lost while this job was running (a job with secrets runs only on the "
                                         "node that accepted it)");
  CHECK(a.logLines(secret).front() == "key=***");
  CHECK(a.waitForJob(rerun) == "complete");
  const Lines rerun_log = a.logLines(rerun);
  CHECK(std::find(rerun_log.begin(), rerun_log.end(),
                  "dray: node " + name_b +
                      " was lost while this job was running; running it again from step 0 on node " + "lost-a-" +
                      std::to_string(::getpid())) != rerun_log.end());
  CHECK(rerun_log.back() == "rerun-done");
  CHECK(field(a, rerun, "node") == "lost-a-" + std::to_string(::getpid()));
  // Nothing ran twice: the normal job never reached A's engine; the waiting ones only ran there.
  const auto on_engine1 = created1.jobs();
  CHECK(countOf(on_engine1, normal) == 0);
  CHECK(countOf(on_engine1, rerun) == 1);
  CHECK(countOf(on_engine1, waiting1) == 1);
  CHECK(countOf(created2.jobs(), waiting1) == 0);

  // B's containers are still on its engine (dray was killed, not the engine) until B is
  // back: its start-up recovery reaps them.
  CHECK(engine2.docker("ps -aq --filter label=dray.instance=" + name_b) != "");
  b.reset();
  DrayProcess b_again(nodeEnv(redis, name_b, "2", engine2.host()));
  INFO(b_again.log());
  CHECK(waitUntil([&] { return engine2.docker("ps -aq --filter label=dray.instance=" + name_b) == ""; }, 30s));
  CHECK(field(a, normal, "status") == "error");  // recovery leaves jobs taken over alone
  CHECK(redis.cli("XLEN jobs:queue") == "0\n");
}

TEST_CASE("cancel and delete posted to one node reach a job running on the other", "[scale][e2e]") {
  RedisServer redis;
  SecondEngine engine2(kImages);
  const std::string name_a = "cancel-a-" + std::to_string(::getpid());
  const std::string name_b = "cancel-b-" + std::to_string(::getpid());
  DrayProcess a(nodeEnv(redis, name_a, "1"));
  DrayProcess b(nodeEnv(redis, name_b, "1", engine2.host()));
  INFO(a.log() << "\n--- node b ---\n" << b.log());
  // One worker each: two sleeping jobs run one per node.
  const std::string first = a.submit(scriptJob("sleeper-1", "echo up; sleep 300"));
  const std::string second = a.submit(scriptJob("sleeper-2", "echo up; sleep 300"));
  REQUIRE(waitForField(a, first, "state", "running"));
  REQUIRE(waitForField(a, second, "state", "running"));
  const std::string on_b = field(a, first, "node") == name_b ? first : second;
  const std::string on_a = on_b == first ? second : first;
  REQUIRE(field(a, on_b, "node") == name_b);
  REQUIRE(waitUntil([&] { return engine2.docker("ps -q --filter label=dray.job=" + on_b) != ""; }, 30s));

  // A third job waits in the queue (both workers busy): canceled from B, it never runs.
  const std::string waiting = b.submit(scriptJob("never", "echo never"));
  CHECK(field(a, waiting, "state") == "queued");
  CHECK(b.post("/jobs/" + waiting + "/cancel", "").status == 202);
  CHECK(field(a, waiting, "status") == "canceled");

  auto canceled = a.post("/jobs/" + on_b + "/cancel", "");
  CHECK(canceled.status == 202);
  REQUIRE(waitForField(a, on_b, "status", "canceled", 30s));
  CHECK(waitUntil([&] { return engine2.docker("ps -aq --filter label=dray.job=" + on_b) == ""; }, 30s));
  // DELETE through B of the job running on A: canceled there, then removed.
  CHECK(b.del("/jobs/" + on_a).status == 204);
  CHECK(a.get("/jobs/" + on_a).status == 404);
  CHECK(dray::test::containersOfJob(on_a).empty());
  CHECK(a.get("/jobs/" + waiting).json()->getValue<std::string>("status") == "canceled");
  CHECK(dray::test::containersOfJob(waiting).empty());
  CHECK(engine2.docker("ps -aq --filter label=dray.job=" + waiting) == "");
}

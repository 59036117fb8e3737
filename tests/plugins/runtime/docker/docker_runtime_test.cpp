// The docker runtime against the real engine (CTest label "docker").
#include "plugins/runtime/docker/docker_runtime.hpp"

#include <cstdio>
#include <thread>

#include <Poco/JSON/Parser.h>
#include <Poco/Net/SocketAddress.h>
#include <Poco/Net/StreamSocket.h>
#include <Poco/Process.h>

#include <catch2/catch.hpp>

#include "core/job_service.hpp"
#include "dray/sdk/errors.hpp"
#include "tests/fakes/string_streams.hpp"
#include "tests/support/test_support.hpp"

namespace {

using namespace dray;
using plugins::runtime::docker::DockerRuntime;
using plugins::runtime::docker::parseDockerHost;

struct Engine {
  test::RecordingLogger logger;
  DockerRuntime runtime{parseDockerHost("unix:///var/run/docker.sock"), logger};
  std::string label = core::JobService::newJobId();  // unique per test: finds only our containers

  sdk::ContainerSpec script(const std::string& code) const {
    sdk::ContainerSpec spec;
    spec.image = "dray-test/script";
    spec.env = {"SCRIPT=" + code};
    spec.labels = {{"dray.job", label}, {"dray.step", "0"}};
    return spec;
  }
  std::size_t leftovers() const { return test::containersOfJob(label).size(); }
};

// Remembers the exit code and optionally copies a file out.
class Hook final : public sdk::ExitHook {
 public:
  explicit Hook(std::string path = "") : path_(std::move(path)) {}
  void afterExit(int exit_code, sdk::ContainerFiles& files) override {
    code = exit_code;
    if (!path_.empty()) found = files.copyFileOut(path_, file);
  }
  int code = -1;
  bool found = false;
  test::StringSink file;

 private:
  std::string path_;
};

struct Run {
  test::StringSink out, err;
  Hook hook;
  int code = -1;
};

Run run(Engine& engine, const std::string& code, const std::string& input = "", std::string file = "",
        std::stop_token stop = {}) {
  Run r;
  r.hook = Hook(std::move(file));
  test::StringSource in(input, 7000);  // odd read sizes on purpose
  sdk::RunIo io{in, r.out, r.err};
  r.code = engine.runtime.run(engine.script(code), io, r.hook, stop).code;
  return r;
}

}  // namespace

TEST_CASE("stdout, stderr and the exit code come back and the container is removed", "[docker][runtime]") {
  Engine engine;
  auto r = run(engine, "echo out; echo err >&2; echo \"$SCRIPT\" | wc -c >/dev/null; exit 7");
  CHECK(r.code == 7);
  CHECK(r.hook.code == 7);
  CHECK(r.out.data == "out\n");
  CHECK(r.err.data == "err\n");
  CHECK(engine.leftovers() == 0);
}

TEST_CASE("stdin is streamed in and closed at its end", "[docker][runtime]") {
  Engine engine;
  std::string input;
  for (int i = 0; i < 200000; ++i) input += "line " + std::to_string(i) + "\n";  // ~2.5 MB
  auto r = run(engine, "cat", input);
  CHECK(r.code == 0);
  CHECK(r.out.data.size() == input.size());
  CHECK(r.out.data == input);
}

TEST_CASE("a step that ignores its stdin does not hang the run", "[docker][runtime]") {
  Engine engine;
  auto started = std::chrono::steady_clock::now();
  auto r = run(engine, "echo done", std::string(8 * 1024 * 1024, 'x'));
  CHECK(r.code == 0);
  CHECK(r.out.data == "done\n");
  const std::chrono::duration<double> took = std::chrono::steady_clock::now() - started;
  std::printf("docker runtime: a step ignoring 8 MiB of stdin ran in %.1f s\n", took.count());
  if (!test::sanitized()) CHECK(took < std::chrono::seconds(30));  // sanitizers make everything slower
  CHECK(engine.leftovers() == 0);
}

TEST_CASE("files are copied out of the exited container", "[docker][runtime]") {
  Engine engine;
  auto found = run(engine, "mkdir -p /out && printf 'a\\nb\\n' > /out/r.txt", "", "/out/r.txt");
  CHECK(found.hook.found);
  CHECK(found.hook.file.data == "a\nb\n");
  auto missing = run(engine, "true", "", "/nope.txt");
  CHECK_FALSE(missing.hook.found);
  CHECK(engine.leftovers() == 0);
}

TEST_CASE("a missing image fails with the engine's message", "[docker][runtime]") {
  Engine engine;
  test::RecordingLogger job_log;
  CHECK_THROWS_AS(engine.runtime.ensureImage("dray-test/does-not-exist", false, job_log), sdk::ImageUnavailable);
  CHECK_THROWS_WITH(engine.runtime.ensureImage("dray-test/does-not-exist", false, job_log),
                    Catch::Contains("cannot pull image dray-test/does-not-exist"));
  CHECK_NOTHROW(engine.runtime.ensureImage("dray-test/script", false, job_log));
}

TEST_CASE("a stop request kills and removes the running container", "[docker][runtime]") {
  Engine engine;
  std::stop_source stop;
  std::thread stopper([&] {
    test::waitUntil([&] { return engine.leftovers() == 1; }, std::chrono::seconds(20));
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
    stop.request_stop();
  });
  auto started = std::chrono::steady_clock::now();
  CHECK_THROWS_WITH(run(engine, "sleep 60", "", "", stop.get_token()), Catch::Contains("canceled"));
  stopper.join();
  const std::chrono::duration<double> took = std::chrono::steady_clock::now() - started;
  std::printf("docker runtime: a stopped step ended after %.1f s\n", took.count());
  if (!test::sanitized()) CHECK(took < std::chrono::seconds(30));  // sanitizers make everything slower
  CHECK(engine.leftovers() == 0);
}

TEST_CASE("a sink that throws still gets the container removed", "[docker][runtime]") {
  Engine engine;
  class Exploding final : public sdk::ByteSink {
   public:
    void write(std::string_view) override { throw std::runtime_error("sink failed"); }
  } exploding;
  test::StringSink err;
  test::StringSource in("");
  Hook hook;
  sdk::RunIo io{in, exploding, err};
  CHECK_THROWS_WITH(engine.runtime.run(engine.script("yes | head -n 100000"), io, hook, {}),
                    Catch::Contains("sink failed"));
  CHECK(engine.leftovers() == 0);
}

TEST_CASE("labelled containers are listed for orphan reaping", "[docker][runtime]") {
  Engine engine;
  int status = 0;
  std::string id = test::shell("docker create --label dray.job=" + engine.label + " dray-test/busybox true", &status);
  REQUIRE(status == 0);
  id = id.substr(0, id.find('\n'));
  auto listed = engine.runtime.listLabelled("dray.job");
  CHECK(std::find(listed.begin(), listed.end(), id) != listed.end());
  engine.runtime.remove(id);
  engine.runtime.remove(id);  // already gone: no error
  CHECK(engine.leftovers() == 0);
}

TEST_CASE("an image removed behind dray's back is checked again on the next step", "[docker][runtime]") {
  Engine engine;
  test::RecordingLogger job_log;
  int status = 0;
  test::shell("docker tag dray-test/busybox dray-test/ephemeral:latest", &status);
  REQUIRE(status == 0);
  engine.runtime.ensureImage("dray-test/ephemeral", false, job_log);  // now known present
  test::shell("docker rmi dray-test/ephemeral:latest", &status);
  REQUIRE(status == 0);
  engine.runtime.ensureImage("dray-test/ephemeral", false, job_log);  // cached: no engine call
  sdk::ContainerSpec spec = engine.script("true");
  spec.image = "dray-test/ephemeral";
  test::StringSink out, err;
  test::StringSource in("");
  Hook hook;
  sdk::RunIo io{in, out, err};
  CHECK_THROWS_WITH(engine.runtime.run(spec, io, hook, {}), Catch::Contains("cannot create a container"));
  // Forgotten: the next ensureImage asks the engine again and tries to pull.
  CHECK_THROWS_AS(engine.runtime.ensureImage("dray-test/ephemeral", false, job_log), sdk::ImageUnavailable);
  CHECK(engine.leftovers() == 0);
}

TEST_CASE("a prepared container waits created until run and is removed when dropped, run or not", "[docker][runtime]") {
  Engine engine;
  {
    auto prepared = engine.runtime.prepare(engine.script("echo never"));
    CHECK(test::containersOfJob(engine.label, "created").size() == 1);
  }
  CHECK(engine.leftovers() == 0);

  // Prepared long before its turn: the attach made at prepare time still carries the streams.
  auto prepared = engine.runtime.prepare(engine.script("cat; echo late >&2"));
  std::this_thread::sleep_for(std::chrono::seconds(2));
  test::StringSink out, err;
  test::StringSource in("piped in\n");
  Hook hook;
  sdk::RunIo io{in, out, err};
  CHECK(prepared->run(io, hook, {}).code == 0);
  CHECK(out.data == "piped in\n");
  CHECK(err.data == "late\n");
  CHECK(test::containersOfJob(engine.label, "exited").size() == 1);  // kept until dropped
  CHECK_THROWS_WITH(prepared->run(io, hook, {}), Catch::Contains("already run"));
  prepared.reset();
  CHECK(engine.leftovers() == 0);
}

TEST_CASE("a stop requested before a prepared container starts never starts it", "[docker][runtime]") {
  Engine engine;
  auto prepared = engine.runtime.prepare(engine.script("echo must not run"));
  std::stop_source stop;
  stop.request_stop();
  test::StringSink out, err;
  test::StringSource in("");
  Hook hook;
  sdk::RunIo io{in, out, err};
  CHECK_THROWS_WITH(prepared->run(io, hook, stop.get_token()), Catch::Contains("canceled"));
  CHECK(out.data.empty());
  CHECK(test::containersOfJob(engine.label, "created").size() == 1);  // never started
  prepared.reset();
  CHECK(engine.leftovers() == 0);
}

TEST_CASE("over tcp:// a prepared container still streams after waiting idle", "[docker][runtime]") {
  // socat relays a loopback TCP port to the engine's socket: the tcp:// code path against
  // the real engine (attach with keepalive, pooled sessions, archive copy).
  const std::uint16_t port = test::freePort();
  Poco::ProcessHandle relay = Poco::Process::launch(
      "socat",
      {"TCP-LISTEN:" + std::to_string(port) + ",bind=127.0.0.1,fork,reuseaddr", "UNIX-CONNECT:/var/run/docker.sock"});
  struct Stop {
    Poco::ProcessHandle& handle;
    ~Stop() {
      Poco::Process::kill(handle);
      handle.wait();
    }
  } stop_relay{relay};
  REQUIRE(test::waitUntil(
      [&] {
        try {
          Poco::Net::StreamSocket probe(Poco::Net::SocketAddress("127.0.0.1", port));
          return true;
        } catch (const Poco::Exception&) {
          return false;
        }
      },
      std::chrono::seconds(10)));
  test::RecordingLogger logger;
  DockerRuntime runtime(parseDockerHost("tcp://127.0.0.1:" + std::to_string(port)), logger);
  Engine engine;  // for the label and the script spec
  auto prepared = runtime.prepare(engine.script("mkdir -p /o && tee /o/copy; echo err >&2"));
  std::this_thread::sleep_for(std::chrono::seconds(1));
  test::StringSink out, err;
  test::StringSource in("over tcp\n");
  Hook hook("/o/copy");
  sdk::RunIo io{in, out, err};
  CHECK(prepared->run(io, hook, {}).code == 0);
  CHECK(out.data == "over tcp\n");
  CHECK(err.data == "err\n");
  CHECK(hook.found);
  CHECK(hook.file.data == "over tcp\n");
  prepared.reset();
  CHECK(engine.leftovers() == 0);
}

namespace {

// The HostConfig the engine holds for the one container of `label` (GET /containers/{id}/json).
Poco::JSON::Object::Ptr hostConfigOf(const std::string& label) {
  auto ids = test::containersOfJob(label);
  REQUIRE(ids.size() == 1);
  int status = 0;
  std::string json = test::shell("docker inspect -f '{{json .HostConfig}}' " + ids[0], &status);
  REQUIRE(status == 0);
  return Poco::JSON::Parser().parse(json).extract<Poco::JSON::Object::Ptr>();
}

}  // namespace

TEST_CASE("a prepared container has the step's resources in its HostConfig", "[docker][runtime][resources]") {
  Engine engine;
  // The limits as the step sees them (cgroup v1 paths, then v2).
  sdk::ContainerSpec spec = engine.script(
      "cd /sys/fs/cgroup; cat memory/memory.limit_in_bytes memory.max 2>/dev/null; cat pids/pids.max pids.max "
      "2>/dev/null; true");
  spec.resources = {"none", 512, 48LL << 20, 250000000, 64};
  auto prepared = engine.runtime.prepare(spec);
  auto host = hostConfigOf(engine.label);
  CHECK(host->getValue<std::string>("NetworkMode") == "none");
  CHECK(host->getValue<std::int64_t>("CpuShares") == 512);
  CHECK(host->getValue<std::int64_t>("Memory") == 48LL << 20);
  CHECK(host->getValue<std::int64_t>("MemorySwap") == 48LL << 20);
  CHECK(host->getValue<std::int64_t>("NanoCpus") == 250000000);
  CHECK(host->getValue<std::int64_t>("PidsLimit") == 64);
  test::StringSink out, err;
  test::StringSource in("");
  Hook hook;
  sdk::RunIo io{in, out, err};
  auto exit = prepared->run(io, hook, {});
  CHECK(exit.code == 0);
  CHECK_FALSE(exit.oom_killed);
  CHECK(out.data == std::to_string(48LL << 20) + "\n64\n");
  prepared.reset();

  // Nothing set: the engine's defaults, and the network mode "host" passes through as given.
  sdk::ContainerSpec plain = engine.script("true");
  plain.resources.network_mode = "host";
  auto unlimited = engine.runtime.prepare(plain);
  auto defaults = hostConfigOf(engine.label);
  CHECK(defaults->getValue<std::string>("NetworkMode") == "host");
  CHECK(defaults->getValue<std::int64_t>("Memory") == 0);
  CHECK(defaults->getValue<std::int64_t>("NanoCpus") == 0);
  CHECK(defaults->getValue<std::int64_t>("CpuShares") == 0);
  unlimited.reset();
  CHECK(engine.leftovers() == 0);
}

TEST_CASE("a step past its memory limit is reported as killed for memory", "[docker][runtime][resources]") {
  Engine engine;
  // tail keeps a line without a newline whole: 200 MiB of zeros in a 32 MiB step.
  sdk::ContainerSpec spec = engine.script("head -c 200m /dev/zero | tail");
  spec.resources.memory = 32LL << 20;
  test::StringSink out, err;
  test::StringSource in("");
  Hook hook;
  sdk::RunIo io{in, out, err};
  auto exit = engine.runtime.run(spec, io, hook, {});
  std::printf("docker runtime: a 32 MiB step filling 200 MiB exited %d, oom_killed=%d\n", exit.code,
              exit.oom_killed ? 1 : 0);
  CHECK(exit.code != 0);
  CHECK(exit.oom_killed);

  // An ordinary failure is not a memory kill.
  sdk::ContainerSpec failing = engine.script("exit 3");
  failing.resources.memory = 32LL << 20;
  auto plain = engine.runtime.run(failing, io, hook, {});
  CHECK(plain.code == 3);
  CHECK_FALSE(plain.oom_killed);
  CHECK(engine.leftovers() == 0);
}

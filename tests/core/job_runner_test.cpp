#include "core/job_runner.hpp"

#include <catch2/catch.hpp>

#include "tests/fakes/job_records.hpp"

#include "core/job_codec.hpp"
#include "core/job_service.hpp"
#include "plugins/output/file/file_channel.hpp"
#include "plugins/output/stderr/stderr_channel.hpp"
#include "plugins/output/stdout/stdout_channel.hpp"
#include "plugins/storage/memory/memory_storage.hpp"
#include "tests/fakes/fake_runtime.hpp"
#include "tests/support/test_support.hpp"

namespace {

using namespace dray;
using dray::test::FakeStepResult;

struct Harness {
  test::FakeRuntime runtime;
  plugins::storage::memory::MemoryStorage storage;
  core::ChannelSet channels;

  Harness() {
    channels.add("file", std::make_shared<plugins::output::file::FileChannel>());
    channels.add("stderr", std::make_shared<plugins::output::stderr::StderrChannel>());
    channels.add("stdout", std::make_shared<plugins::output::stdout::StdoutChannel>());
    runtime.define("upper", [](const std::string& in, const sdk::ContainerSpec&) {
      std::string out = in;
      for (auto& c : out) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
      return FakeStepResult{out, "", 0, {}};
    });
    runtime.define("words", [](const std::string&, const sdk::ContainerSpec&) {
      return FakeStepResult{"alpha\nbravo\n", "", 0, {}};
    });
    runtime.define("fail", [](const std::string&, const sdk::ContainerSpec&) {
      return FakeStepResult{"partial\n", "boom\n", 3, {}};
    });
  }

  // Runs one job to its end with `workers` workers and returns its final record.
  sdk::JobRecord run(const std::string& json, unsigned workers = 1) {
    auto decoded = core::decodeJob(json);
    std::string id = core::JobService::newJobId();
    auto resolved = core::resolveJob(decoded.definition, id, channels);
    storage.createJob(dray::test::jobRecord(id, resolved.steps.size(), json));
    core::JobRunner runner(storage, runtime, {workers, 100, 1024, 1 << 20, "test"});
    runner.submit(std::move(resolved));
    REQUIRE(
        test::waitUntil([&] { return storage.getJob(id)->status != sdk::kStatusRunning; }, std::chrono::seconds(10)));
    return *storage.getJob(id);
  }
};

}  // namespace

TEST_CASE("steps run in order, each stdout feeding the next stdin", "[core][runner]") {
  Harness h;
  auto job = h.run(R"({"steps":[{"source":"words"},{"source":"upper"}]})");
  CHECK(job.status == "complete");
  CHECK(job.completed_steps == 2);
  CHECK(h.storage.readLog(job.id, 0, SIZE_MAX) == std::vector<std::string>{"alpha", "bravo", "ALPHA", "BRAVO"});
  auto runs = h.runtime.runs();
  REQUIRE(runs.size() == 2);
  CHECK(runs[0].labels.at("dray.job") == job.id);
  CHECK(runs[1].labels.at("dray.step") == "1");
}

TEST_CASE("a non-zero exit stops the job with error and later steps never run", "[core][runner]") {
  Harness h;
  auto job = h.run(R"({"steps":[{"source":"words"},{"source":"fail"},{"source":"upper"}]})");
  CHECK(job.status == "error");
  CHECK(job.completed_steps == 1);
  CHECK(h.runtime.runs().size() == 2);
  auto log = h.storage.readLog(job.id, 0, SIZE_MAX);
  REQUIRE(log.size() == 5);
  CHECK(log[2] == "partial");
  CHECK(log[3] == "boom");
  CHECK(log[4] == "dray: step 2 (fail) failed: exited with code 3; later steps not run");
}

TEST_CASE("a missing image ends the job in error with the reason in the log", "[core][runner]") {
  Harness h;
  auto job = h.run(R"({"steps":[{"source":"nope"}]})");
  CHECK(job.status == "error");
  CHECK(job.completed_steps == 0);
  CHECK_THAT(h.storage.readLog(job.id, 0, SIZE_MAX).back(), Catch::Contains("cannot pull image nope"));
}

TEST_CASE("stderr and file channels pass the chosen output on", "[core][runner]") {
  Harness h;
  h.runtime.define("both", [](const std::string&, const sdk::ContainerSpec&) {
    return FakeStepResult{"to stdout\n", "to stderr\n", 0, {{"/out.txt", "from file\n"}}};
  });
  h.runtime.define("cat", [](const std::string& in, const sdk::ContainerSpec&) {
    return FakeStepResult{in, "", 0, {}};
  });
  auto job = h.run(R"({"steps":[{"source":"both","output":"stderr"},{"source":"cat"},
                                {"source":"both","output":"/out.txt"},{"source":"cat"},
                                {"source":"both","output":"/missing"},{"source":"cat"}]})");
  CHECK(job.status == "complete");
  auto log = h.storage.readLog(job.id, 0, SIZE_MAX);
  CHECK(log[2] == "to stderr");
  CHECK(log[5] == "from file");
  CHECK_THAT(log[8], Catch::Contains("/missing does not exist"));
  CHECK(log.size() == 9);  // the last cat got empty input
}

TEST_CASE("job env reaches every step and step env overrides it", "[core][runner]") {
  Harness h;
  h.runtime.define("env", [](const std::string&, const sdk::ContainerSpec& spec) {
    std::string out;
    for (const auto& e : spec.env) {
      if (e.rfind("DRAY_", 0) != 0) out += e + "\n";  // identity variables have their own test
    }
    return FakeStepResult{out, "", 0, {}};
  });
  auto job = h.run(R"({"environment":[{"variable":"A","value":"job"},{"variable":"B","value":"job"}],
                       "steps":[{"source":"env","environment":[{"variable":"B","value":"step"}]},{"source":"env"}]})");
  CHECK(h.storage.readLog(job.id, 0, SIZE_MAX) == std::vector<std::string>{"A=job", "B=step", "A=job", "B=job"});
}

TEST_CASE("refresh asks the runtime to pull", "[core][runner]") {
  Harness h;
  h.run(R"({"steps":[{"source":"words","refresh":true},{"source":"upper"}]})");
  CHECK(h.runtime.pulls() == std::vector<std::string>{"words"});
}

TEST_CASE("the next step's container is prepared while the current step runs", "[core][runner]") {
  Harness h;
  std::vector<std::string> seen;
  h.runtime.define("probe", [&](const std::string&, const sdk::ContainerSpec&) {
    // Step 2 is prepared on another thread right after step 1 starts; step 3 only later.
    test::waitUntil([&] { return h.runtime.prepared().size() >= 2; }, std::chrono::seconds(5));
    seen = h.runtime.prepared();
    return FakeStepResult{"x\n", "", 0, {}};
  });
  auto job = h.run(R"({"steps":[{"source":"probe"},{"source":"upper"},{"source":"upper"}]})");
  CHECK(job.status == "complete");
  CHECK(seen == std::vector<std::string>{"probe", "upper"});
  CHECK(h.runtime.prepared().size() == 3);
  CHECK(h.runtime.alive() == 0);
  CHECK(h.storage.readLog(job.id, 0, SIZE_MAX) == std::vector<std::string>{"x", "X", "X"});
}

TEST_CASE("a failed step drops the next step's prepared container unrun", "[core][runner]") {
  Harness h;
  auto job = h.run(R"({"steps":[{"source":"words"},{"source":"fail"},{"source":"upper"}]})");
  CHECK(job.status == "error");
  CHECK(h.runtime.prepared() == std::vector<std::string>{"words", "fail", "upper"});
  CHECK(h.runtime.runs().size() == 2);
  CHECK(h.runtime.alive() == 0);  // gone before the job's status said error
}

TEST_CASE("what preparing ahead logs appears at the step's turn, after the previous output", "[core][runner]") {
  Harness h;
  auto job = h.run(R"({"steps":[{"source":"words"},{"source":"upper","refresh":true},{"source":"nope"}]})");
  CHECK(job.status == "error");
  CHECK(job.completed_steps == 2);
  auto log = h.storage.readLog(job.id, 0, SIZE_MAX);
  REQUIRE(log.size() == 6);
  CHECK(log[0] == "alpha");
  CHECK(log[2] == "dray: pulling image upper");
  CHECK(log[3] == "ALPHA");
  CHECK_THAT(log[5], Catch::Contains("step 3 (nope) failed: cannot pull image nope"));
}

TEST_CASE("many jobs on several workers all finish", "[core][runner]") {
  Harness h;
  core::JobRunner runner(h.storage, h.runtime, {4, 100, 1024, 1 << 20, "test"});
  std::vector<std::string> ids;
  for (int i = 0; i < 50; ++i) {
    auto decoded = core::decodeJob(R"({"steps":[{"source":"words"},{"source":"upper"}]})");
    std::string id = core::JobService::newJobId();
    h.storage.createJob(dray::test::jobRecord(id, 2, "{}"));
    runner.submit(core::resolveJob(decoded.definition, id, h.channels));
    ids.push_back(id);
  }
  REQUIRE(test::waitUntil(
      [&] {
        for (const auto& id : ids) {
          if (h.storage.getJob(id)->status != "complete") return false;
        }
        return true;
      },
      std::chrono::seconds(20)));
  for (const auto& id : ids) CHECK(h.storage.readLog(id, 0, SIZE_MAX).size() == 4);
}

TEST_CASE("shutdown ends queued jobs as error instead of losing them", "[core][runner]") {
  Harness h;
  std::string id = core::JobService::newJobId();
  h.storage.createJob(dray::test::jobRecord(id, 1, "{}"));
  {
    core::JobRunner runner(h.storage, h.runtime, {0, 100, 1024, 1 << 20, "test"});  // no workers: stays queued
    auto decoded = core::decodeJob(R"({"steps":[{"source":"words"}]})");
    runner.submit(core::resolveJob(decoded.definition, id, h.channels));
    runner.shutdown();
    CHECK_THROWS(runner.submit(core::resolveJob(decoded.definition, "X", h.channels)));
  }
  CHECK(h.storage.getJob(id)->status == "error");
  CHECK_THAT(h.storage.readLog(id, 0, SIZE_MAX).back(), Catch::Contains("dray shut down"));
}

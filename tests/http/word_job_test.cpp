// The real dray binary over HTTP with the real engine (CTest labels "http" and "docker").
#include <thread>

#include <catch2/catch.hpp>

#include "dray/sdk/version.hpp"
#include "tests/http/script_step.hpp"
#include "tests/support/test_support.hpp"

using dray::test::DrayProcess;
using Lines = std::vector<std::string>;

namespace {

using dray::test::scriptStep;

Lines tail(const Lines& lines, std::size_t n) {
  return Lines(lines.end() - static_cast<long>(std::min(n, lines.size())), lines.end());
}

}  // namespace

TEST_CASE("the Word Job completes with exactly the expected output", "[http][docker][e2e]") {
  DrayProcess dray;
  std::string id = dray.submit(R"({"name":"Word Job","steps":[
      {"source":"dray-test/randword","environment":[{"variable":"WORD_COUNT","value":"3"}]},
      {"source":"dray-test/upper"},{"source":"dray-test/reverse"}]})");
  INFO(dray.log());
  CHECK(dray.waitForJob(id) == "complete");
  auto job = dray.get("/jobs/" + id);
  CHECK_THAT(job.body, Catch::StartsWith(R"({"id":")" + id + R"(","stepsCompleted":3,"status":"complete",)"));
  auto steps = job.json()->getArray("steps");
  REQUIRE(steps->size() == 3);
  CHECK(steps->getObject(2)->getValue<std::string>("image") == "dray-test/reverse");
  CHECK(steps->getObject(2)->getValue<int>("exitCode") == 0);
  CHECK(job.json()->getValue<std::string>("name") == "Word Job");
  CHECK(dray.logLines(id) ==
        Lines{"alpha", "bravo", "charlie", "ALPHA", "BRAVO", "CHARLIE", "AHPLA", "OVARB", "EILRAHC"});
  CHECK(dray.logLines(id, 6) == Lines{"AHPLA", "OVARB", "EILRAHC"});
  CHECK(dray.get("/v1/jobs/" + id + "/log?index=8").body == R"({"lines":["EILRAHC"]})");
  CHECK(dray::test::containersOfJob(id).empty());
}

TEST_CASE("the stderr channel passes stderr on while stdout is only logged", "[http][docker][e2e]") {
  DrayProcess dray;
  std::string id =
      dray.submit(R"({"steps":[)" + scriptStep("echo log line; echo data line >&2", R"(,"output":"stderr")") +
                  R"(,{"source":"dray-test/upper"}]})");
  INFO(dray.log());
  CHECK(dray.waitForJob(id) == "complete");
  auto lines = dray.logLines(id);
  CHECK(std::count(lines.begin(), lines.end(), "log line") == 1);
  CHECK(std::count(lines.begin(), lines.end(), "data line") == 1);
  CHECK(tail(lines, 1) == Lines{"DATA LINE"});
}

TEST_CASE("the file channel copies a file out of the container", "[http][docker][e2e]") {
  DrayProcess dray;
  std::string id = dray.submit(R"({"steps":[)" +
                               scriptStep("echo noise; mkdir -p /out; printf 'one\\ntwo\\n' > /out/result.txt",
                                          R"(,"output":"/out/result.txt")") +
                               R"(,{"source":"dray-test/reverse"}]})");
  INFO(dray.log());
  CHECK(dray.waitForJob(id) == "complete");
  CHECK(dray.logLines(id) == Lines{"noise", "eno", "owt"});
}

TEST_CASE("a missing output file gives the next step empty input and a log line", "[http][docker][e2e]") {
  DrayProcess dray;
  std::string id = dray.submit(R"({"steps":[)" + scriptStep("true", R"(,"output":"/missing.txt")") + "," +
                               scriptStep("echo \"got $(wc -c) bytes\"") + "]}");
  INFO(dray.log());
  CHECK(dray.waitForJob(id) == "complete");
  auto lines = dray.logLines(id);
  REQUIRE(lines.size() == 2);
  CHECK_THAT(lines[0], Catch::Contains("dray: output file /missing.txt does not exist"));
  CHECK(lines[1] == "got 0 bytes");
}

TEST_CASE("delimiters pass on only the marked lines", "[http][docker][e2e]") {
  DrayProcess dray;
  std::string id =
      dray.submit(R"({"steps":[)" +
                  scriptStep("echo chatter; echo '-- begin --'; echo keep me; echo '-- end --'; echo more chatter",
                             R"(,"beginDelimiter":"-- begin --","endDelimiter":"-- end --")") +
                  R"(,{"source":"dray-test/upper"}]})");
  INFO(dray.log());
  CHECK(dray.waitForJob(id) == "complete");
  CHECK(tail(dray.logLines(id), 1) == Lines{"KEEP ME"});
}

TEST_CASE("job env reaches every step and step env overrides it", "[http][docker][e2e]") {
  DrayProcess dray;
  std::string id = dray.submit(
      std::string(
          R"({"environment":[{"variable":"COLOUR","value":"red"},{"variable":"SIZE","value":"big"}],"steps":[)") +
      R"({"source":"dray-test/script","environment":[{"variable":"SCRIPT","value":"echo $COLOUR $SIZE"},)"
      R"({"variable":"SIZE","value":"small"}]},)" +
      scriptStep("cat; echo $COLOUR $SIZE") + "]}");
  INFO(dray.log());
  CHECK(dray.waitForJob(id) == "complete");
  CHECK(dray.logLines(id) == Lines{"red small", "red small", "red big"});
}

TEST_CASE("a failing middle step ends the job in error and later steps never run", "[http][docker][e2e]") {
  DrayProcess dray;
  std::string id =
      dray.submit(R"({"steps":[)" + scriptStep("echo first") + "," +
                  scriptStep("echo second; echo broken >&2; exit 3") + "," + scriptStep("echo third") + "]}");
  INFO(dray.log());
  CHECK(dray.waitForJob(id) == "error");
  CHECK(dray.get("/jobs/" + id).json()->getValue<int>("stepsCompleted") == 1);
  auto lines = dray.logLines(id);
  CHECK(std::find(lines.begin(), lines.end(), "third") == lines.end());
  CHECK_THAT(lines.back(), Catch::Contains("step 2 (dray-test/script) failed: exited with code 3"));
  CHECK(dray::test::containersOfJob(id).empty());
}

TEST_CASE("a missing image ends the job in error with the engine's message", "[http][docker][e2e]") {
  DrayProcess dray;
  std::string id = dray.submit(R"({"steps":[{"source":"dray-test/no-such-image"},{"source":"dray-test/upper"}]})");
  INFO(dray.log());
  CHECK(dray.waitForJob(id) == "error");
  auto lines = dray.logLines(id);
  REQUIRE(lines.size() == 2);
  CHECK(lines[0] == "dray: pulling image docker.io/dray-test/no-such-image:latest");  // what the engine is asked
  // The engine's own reason follows (here: no registry is reachable).
  CHECK_THAT(lines[1], Catch::StartsWith("dray: step 1 (dray-test/no-such-image) failed: cannot pull image "
                                         "docker.io/dray-test/no-such-image:latest: "));
  CHECK(lines[1].size() > 90);
  CHECK(dray.get("/jobs/" + id).json()->getValue<int>("stepsCompleted") == 0);
}

TEST_CASE("refresh pulls even a present image, and with no registry the job ends in error", "[http][docker][e2e]") {
  DrayProcess dray;
  std::string id = dray.submit(R"({"steps":[{"source":"dray-test/upper","refresh":true}]})");
  INFO(dray.log());
  CHECK(dray.waitForJob(id) == "error");
  auto lines = dray.logLines(id);
  REQUIRE(lines.size() == 2);
  CHECK(lines[0] == "dray: pulling image docker.io/dray-test/upper:latest");
  CHECK_THAT(lines[1], Catch::Contains("failed: cannot pull image docker.io/dray-test/upper:latest"));
}

TEST_CASE("20 jobs at once on 4 workers all complete and leave no container", "[http][docker][e2e][load]") {
  DrayProcess dray(dray::test::EnvMap{{"DRAY_WORKERS", "4"}, {"LOG_LEVEL", "info"}});
  std::vector<std::string> ids(20);
  std::vector<std::thread> posters;
  for (std::size_t i = 0; i < ids.size(); ++i) {
    posters.emplace_back([&, i] {
      ids[i] =
          dray.post("/jobs",
                    R"({"steps":[{"source":"dray-test/randword","environment":[{"variable":"WORD_COUNT","value":")" +
                        std::to_string(i + 1) + R"("}]},{"source":"dray-test/upper"},{"source":"dray-test/reverse"}]})")
              .json()
              ->getValue<std::string>("id");
    });
  }
  for (auto& t : posters) t.join();
  INFO(dray.log());
  for (std::size_t i = 0; i < ids.size(); ++i) {
    INFO("job " << i);
    CHECK(dray.waitForJob(ids[i], std::chrono::seconds(180)) == "complete");
    CHECK(dray.logLines(ids[i]).size() == 3 * (i + 1));
  }
  for (const auto& id : ids) CHECK(dray::test::containersOfJob(id).empty());
}

TEST_CASE("a third-party output channel from DRAY_PLUGIN_PATH is accepted and used", "[http][docker][e2e]") {
  DrayProcess dray(
      dray::test::EnvMap{{"DRAY_PLUGIN_PATH", dray::test::pluginDir() + ":" + dray::test::testPluginDir()}});
  std::string id =
      dray.submit(R"({"steps":[)" + scriptStep("echo quiet", R"(,"output":"shout")") + "," + scriptStep("cat") + "]}");
  INFO(dray.log());
  CHECK(dray.waitForJob(id) == "complete");
  CHECK(dray.logLines(id) == Lines{"quiet", "QUIET"});
  CHECK_THAT(dray.log(), Catch::Contains("abi-mismatch.so: refused, built for ABI version " +
                                         std::to_string(dray::sdk::kAbiVersion + 1)));
}

TEST_CASE("SIGTERM during a job removes its container and ends it cleanly", "[http][docker][e2e]") {
  DrayProcess dray;
  std::string id = dray.submit(R"({"steps":[)" + scriptStep("sleep 120") + "]}");
  REQUIRE(dray::test::waitUntil([&] { return dray::test::containersOfJob(id).size() == 1; }, std::chrono::seconds(20)));
  CHECK(dray.stop() == 0);
  CHECK(dray::test::containersOfJob(id).empty());
}

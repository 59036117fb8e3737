// Issue #13, part 6: an output that is not a regular file, and delimiters that never
// matched, are said in the job log (real dray, real engine).
#include <algorithm>

#include <catch2/catch.hpp>

#include "tests/http/script_step.hpp"
#include "tests/support/test_support.hpp"

using dray::test::DrayProcess;
using dray::test::scriptStep;
using namespace std::chrono_literals;
using Lines = std::vector<std::string>;

namespace {

// Runs a step writing `setup` with `output`, then `cat`: returns the final status and the log.
std::pair<std::string, Lines> runWithOutput(const DrayProcess& dray, const std::string& setup,
                                            const std::string& output) {
  const std::string id = dray.submit(R"({"steps":[)" + scriptStep(setup, R"(,"output":")" + output + R"(")") + "," +
                                     scriptStep("cat") + "]}");
  std::string status = dray.waitForJob(id);
  return {status, dray.logLines(id)};
}

}  // namespace

TEST_CASE("an output that is not a regular file ends the job in error, naming it", "[e2e][channels]") {
  DrayProcess dray;
  INFO(dray.log());
  const struct {
    const char* setup;
    const char* output;
    const char* says;
  } cases[] = {
      {"true", "/etc", "output /etc is a directory, not a regular file"},
      {"true", "/dev/null", "output /dev/null is under /dev"},
      {"mknod /null c 1 3", "/null", "output /null is a character device, not a regular file"},
      {"mkfifo /pipe", "/pipe", "output /pipe is a FIFO (named pipe), not a regular file"},
      {"ln -s /etc /link", "/link", "output /link is a symbolic link to /etc, which is a directory"},
      {"ln -s gone /dangling", "/dangling", "output /dangling is a symbolic link to /gone, which does not exist"},
  };
  for (const auto& c : cases) {
    INFO(c.output);
    auto [status, lines] = runWithOutput(dray, c.setup, c.output);
    CHECK(status == "error");
    REQUIRE_FALSE(lines.empty());
    CHECK_THAT(lines.back(), Catch::Contains("step 1 (dray-test/script) failed: ") && Catch::Contains(c.says));
  }
}

TEST_CASE("a symlink to a regular file is followed", "[e2e][channels]") {
  DrayProcess dray;
  INFO(dray.log());
  auto [status, lines] =
      runWithOutput(dray, "mkdir -p /out && echo linked data > /out/v2.txt && ln -s v2.txt /out/latest", "/out/latest");
  CHECK(status == "complete");
  CHECK(lines == Lines{"linked data"});
}

TEST_CASE("delimiters never seen are explained and the job still completes", "[e2e][channels]") {
  DrayProcess dray;
  INFO(dray.log());
  const std::string delimiters = R"(,"beginDelimiter":"-- begin --","endDelimiter":"-- end --")";
  const std::string never = dray.submit(R"({"steps":[)" + scriptStep("echo chatter", delimiters) + "," +
                                        scriptStep("echo \"got $(wc -c) bytes\"") + "]}");
  CHECK(dray.waitForJob(never) == "complete");
  CHECK(dray.logLines(never) == Lines{"chatter",
                                      "dray: beginDelimiter \"-- begin --\" never seen in step 1's output; the next "
                                      "step gets empty input",
                                      "got 0 bytes"});
  const std::string unended = dray.submit(R"({"steps":[)" + scriptStep("echo '-- begin --'; echo kept", delimiters) +
                                          "," + scriptStep("cat") + "]}");
  CHECK(dray.waitForJob(unended) == "complete");
  const Lines lines = dray.logLines(unended);
  REQUIRE(lines.size() == 4);
  CHECK(lines[2] ==
        "dray: endDelimiter \"-- end --\" never seen in step 1's output after beginDelimiter; all that "
        "followed was passed on");
  CHECK(lines[3] == "kept");
}

// Issue 15: what the production fork added (input, identity variables, final output,
// finishedIn, per-step resources), retries, and the log route's one-GET contract. Real dray,
// real engine. Cases tagged [redis-too] also run on Redis storage (DRAY_TEST_STORAGE=redis).
#include <algorithm>
#include <cstdio>
#include <string>
#include <thread>

#include <Poco/Net/HTTPClientSession.h>
#include <Poco/Net/HTTPRequest.h>
#include <Poco/Net/HTTPResponse.h>
#include <catch2/catch.hpp>

#include "tests/http/script_step.hpp"
#include "tests/support/test_support.hpp"

using dray::test::DrayProcess;
using dray::test::EnvMap;
using dray::test::scriptStep;
using namespace std::chrono_literals;
using Lines = std::vector<std::string>;

namespace {

constexpr std::size_t kMiB = 1024 * 1024;

bool hasLine(const Lines& lines, const std::string& prefix) {
  return std::any_of(lines.begin(), lines.end(), [&](const std::string& l) { return l.starts_with(prefix); });
}

}  // namespace

TEST_CASE("a 9 MiB log and a short line come back whole in one GET, and limit pages the same lines",
          "[e2e][fork][redis-too]") {
  DrayProcess dray(EnvMap{{"DRAY_LOG_LIMIT", "33554432"}, {"DRAY_OUTPUT_LIMIT", "16777216"}});
  // 9,437 lines of 999 bytes (9 MiB), then "last": a client of the original reads it all at once.
  const std::string id =
      dray.submit(R"({"steps":[)" + scriptStep("x=$(printf %0999d 0); yes $x | head -n 9437; echo last") + "]}");
  INFO(dray.log());
  REQUIRE(dray.waitForJob(id, 120s) == "complete");
  auto whole = dray.get("/jobs/" + id + "/log");
  REQUIRE(whole.status == 200);
  CHECK(whole.headers["Transfer-Encoding"] == "chunked");
  auto lines = whole.json()->getArray("lines");
  REQUIRE(lines->size() == 9438);
  CHECK(lines->getElement<std::string>(0) == std::string(999, '0'));
  CHECK(lines->getElement<std::string>(9437) == "last");
  CHECK_FALSE(whole.json()->has("next"));  // the original's shape
  std::printf("fork: one GET returned %zu bytes of log JSON\n", whole.body.size());

  // Opt-in paging: at most `limit` lines and the index to ask for next.
  std::size_t index = 0;
  std::size_t pages = 0;
  for (;;) {
    auto page = dray.get("/jobs/" + id + "/log?index=" + std::to_string(index) + "&limit=2000").json();
    auto page_lines = page->getArray("lines");
    REQUIRE(page->getValue<std::size_t>("next") == index + page_lines->size());
    CHECK(page_lines->size() <= 2000);
    for (std::size_t i = 0; i < page_lines->size(); ++i) {
      REQUIRE(page_lines->getElement<std::string>(i) == lines->getElement<std::string>(index + i));
    }
    index += page_lines->size();
    if (page_lines->size() == 0) break;
    ++pages;
  }
  CHECK(index == 9438);
  CHECK(pages == 5);
  CHECK(dray.get("/jobs/" + id + "/log?limit=0").status == 400);
  CHECK(dray.get("/jobs/" + id + "/log?limit=1000001").status == 400);
  CHECK(dray.get("/jobs/" + id + "/log?limit=1000000").status == 200);
}

TEST_CASE("input feeds the first step, identity variables are set, the last step output is served raw",
          "[e2e][fork][redis-too]") {
  DrayProcess dray;
  // "hello\nworld\n" in base64; step 2 also reports who it is on stderr (the log).
  const std::string id = dray.submit(
      R"({"name":"fork-job","input":"aGVsbG8Kd29ybGQK","steps":[)" + scriptStep("cat", R"(,"name":"first")") + "," +
      scriptStep("tr a-z A-Z; echo \"who $DRAY_JOB_ID/$DRAY_JOB_NAME/$DRAY_CURRENT_STEP_INDEX/"
                 "$DRAY_CURRENT_STEP_NAME/$DRAY_CURRENT_STEP_ATTEMPT\" >&2",
                 R"(,"name":"second")") +
      "]}");
  INFO(dray.log());
  REQUIRE(dray.waitForJob(id) == "complete");
  const Lines lines = dray.logLines(id);
  CHECK(lines == Lines{"hello", "world", "HELLO", "WORLD", "who " + id + "/fork-job/1/second/1"});
  auto output = dray.get("/jobs/" + id + "/output");
  CHECK(output.status == 200);
  CHECK(output.headers["Content-Type"] == "application/octet-stream");
  CHECK(output.body == "HELLO\nWORLD\n");
  auto job = dray.get("/jobs/" + id).json();
  CHECK(job->getValue<double>("finishedIn") > 0);
  CHECK(job->getValue<double>("finishedIn") < 120);

  // No output: an empty last step, a failed job, an unknown job.
  const std::string empty = dray.submit(R"({"steps":[)" + scriptStep("true") + "]}");
  REQUIRE(dray.waitForJob(empty) == "complete");
  CHECK(dray.get("/jobs/" + empty + "/output").status == 404);
  CHECK(dray.get("/jobs/00000000-0000-0000-0000-000000000000/output").status == 404);

  // Bad input is refused before anything is stored.
  auto bad = dray.post("/jobs", R"({"input":"not base64!","steps":[{"source":"dray-test/script"}]})");
  CHECK(bad.status == 400);
  CHECK_THAT(bad.body, Catch::Contains("job.input is not valid base64"));
}

TEST_CASE("an output over DRAY_OUTPUT_LIMIT is not kept, and the log says so", "[e2e][fork]") {
  DrayProcess dray(EnvMap{{"DRAY_OUTPUT_LIMIT", "1000"}});
  const std::string at_limit = dray.submit(R"({"steps":[)" + scriptStep("head -c 1000 /dev/zero") + "]}");
  const std::string over = dray.submit(R"({"steps":[)" + scriptStep("head -c 1001 /dev/zero") + "]}");
  REQUIRE(dray.waitForJob(at_limit) == "complete");
  REQUIRE(dray.waitForJob(over) == "complete");
  CHECK(dray.get("/jobs/" + at_limit + "/output").body == std::string(1000, '\0'));
  CHECK(dray.get("/jobs/" + over + "/output").status == 404);
  CHECK(hasLine(dray.logLines(over), "dray: the job's output (1001 bytes) is larger than DRAY_OUTPUT_LIMIT"));
}

TEST_CASE("a step that fails until its second attempt is retried with the same stdin", "[e2e][retries][redis-too]") {
  DrayProcess dray;
  // Attempt 1 reads its input and fails; attempt 2 must get the same input again.
  const std::string id =
      dray.submit(R"({"input":"YWJjCg==","steps":[)" +
                  scriptStep("read line; [ \"$DRAY_CURRENT_STEP_ATTEMPT\" -ge 2 ] || exit 1; echo \"got $line\"",
                             R"(,"retries":2,"retryBackoff":1)") +
                  "]}");
  INFO(dray.log());
  REQUIRE(dray.waitForJob(id) == "complete");
  const Lines lines = dray.logLines(id);
  CHECK(lines == Lines{"dray: step 1 attempt 2/3 after exited with code 1, next in 1 s", "got abc"});
  auto step = dray.get("/jobs/" + id).json()->getArray("steps")->getObject(0);
  CHECK(step->getValue<int>("attempts") == 2);
  CHECK(step->getValue<std::string>("state") == "complete");
  CHECK_THAT(dray.get("/metrics").body, Catch::Contains("dray_step_retries_total 1"));
}

TEST_CASE("retries run out, a timed-out attempt is retried, cancel in the backoff is not", "[e2e][retries]") {
  DrayProcess dray;
  const std::string failing =
      dray.submit(R"({"steps":[)" + scriptStep("exit 4", R"(,"retries":1)") + "," + scriptStep("echo never") + "]}");
  // Attempt 1 sleeps past its timeout; attempt 2 is quick.
  const std::string slow = dray.submit(
      R"({"steps":[)" +
      scriptStep("[ \"$DRAY_CURRENT_STEP_ATTEMPT\" -ge 2 ] || sleep 30; echo quick", R"(,"retries":1,"timeout":1)") +
      "]}");
  const std::string backing_off =
      dray.submit(R"({"steps":[)" + scriptStep("exit 1", R"(,"retries":3,"retryBackoff":60)") + "]}");
  INFO(dray.log());
  REQUIRE(dray.waitForJob(failing) == "error");
  Lines lines = dray.logLines(failing);
  CHECK(lines.size() == 2);
  CHECK(lines[0] == "dray: step 1 attempt 2/2 after exited with code 4, next in 0 s");
  CHECK_THAT(lines[1], Catch::StartsWith("dray: step 1 (dray-test/script) failed: exited with code 4"));
  CHECK(dray.get("/jobs/" + failing).json()->getArray("steps")->getObject(0)->getValue<int>("attempts") == 2);

  REQUIRE(dray.waitForJob(slow) == "complete");
  lines = dray.logLines(slow);
  CHECK(lines == Lines{"dray: step 1 attempt 2/2 after timed out after 1 s, next in 0 s", "quick"});

  REQUIRE(dray::test::waitUntil([&] { return hasLine(dray.logLines(backing_off), "dray: step 1 attempt 2/4"); }, 30s));
  auto started = std::chrono::steady_clock::now();
  REQUIRE(dray.post("/jobs/" + backing_off + "/cancel", "").status == 202);
  CHECK(dray.waitForJob(backing_off) == "canceled");
  const double took = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  std::printf("retries: cancel during a 60 s backoff ended the job after %.2f s\n", took);
  if (!dray::test::sanitized()) CHECK(took < 10);
  CHECK(dray.get("/jobs/" + backing_off).json()->getArray("steps")->getObject(0)->getValue<int>("attempts") == 2);
  CHECK(dray::test::containersOfJob(backing_off).empty());
}

TEST_CASE("step resources reach the engine, ceilings refuse, host network needs permission", "[e2e][resources]") {
  DrayProcess dray(EnvMap{{"DRAY_STEP_MEMORY", "67108864"}, {"DRAY_STEP_PIDS_LIMIT", "200"}});
  const std::string id = dray.submit(
      R"({"steps":[)" +
      scriptStep("echo up; sleep 30", R"(,"memory":33554432,"cpus":0.5,"cpuShares":512,"networkMode":"none")") + "]}");
  INFO(dray.log());
  REQUIRE(dray::test::waitUntil([&] { return dray.logLines(id) == Lines{"up"}; }, 30s));
  auto containers = dray::test::containersOfJob(id);
  REQUIRE(containers.size() == 1);
  const std::string host = dray::test::shell(
      "docker inspect -f '{{.HostConfig.Memory}} {{.HostConfig.NanoCpus}} {{.HostConfig.CpuShares}} "
      "{{.HostConfig.PidsLimit}} {{.HostConfig.NetworkMode}}' " +
      containers[0]);
  CHECK(host == "33554432 500000000 512 200 none\n");  // pidsLimit: the server's default
  REQUIRE(dray.post("/jobs/" + id + "/cancel", "").status == 202);
  CHECK(dray.waitForJob(id) == "canceled");

  auto over = dray.post("/jobs", R"({"steps":[{"source":"dray-test/script","memory":67108865}]})");
  CHECK(over.status == 400);
  CHECK_THAT(over.body, Catch::Contains("DRAY_STEP_MEMORY"));
  auto host_network = dray.post("/jobs", R"({"steps":[{"source":"dray-test/script","networkMode":"host"}]})");
  CHECK(host_network.status == 403);
  CHECK_THAT(host_network.body, Catch::Contains("DRAY_ALLOW_HOST_NETWORK"));
}

TEST_CASE("a step killed for memory ends the job error with the out-of-memory line", "[e2e][resources]") {
  DrayProcess dray;
  // tail keeps a whole line in memory: 256 MiB without a newline cannot fit in 16 MiB.
  const std::string id = dray.submit(
      R"({"steps":[)" + scriptStep("head -c 268435456 /dev/zero | tail -n 1 > /dev/null", R"(,"memory":16777216)") +
      "," + scriptStep("echo never") + "]}");
  INFO(dray.log());
  REQUIRE(dray.waitForJob(id, 120s) == "error");
  const Lines lines = dray.logLines(id);
  CHECK(hasLine(lines, "dray: step 1 killed: out of memory (limit 16 MiB)"));
  CHECK_FALSE(hasLine(lines, "never"));
}

TEST_CASE("reading a 1 GiB log in one GET keeps dray's memory bounded", "[e2e][fork][memory]") {
  // The log lives in the memory storage (1 GiB), so the limits around it are raised.
  DrayProcess dray(EnvMap{{"DRAY_LOG_LIMIT", "2147483648"},
                          {"DRAY_JOB_LOG_LIMIT", "2147483648"},
                          {"DRAY_MEMORY_LIMIT", "4294967296"},
                          {"LOG_LEVEL", "info"}});
  // 1,048,576 lines of 1,023 bytes + newline: 1 GiB of output, all of it logged.
  const std::string id =
      dray.submit(R"({"steps":[)" + scriptStep("x=$(printf %01023d 0); yes $x | head -n 1048576 > /dev/stderr") + "]}");
  INFO(dray.log());
  REQUIRE(dray.waitForJob(id, 600s) == "complete");
  const std::size_t rss_before = dray.memoryBytes("VmRSS");
  const std::size_t peak_before = dray.memoryBytes("VmHWM");
  // Read the whole answer as a stream and count it; sample dray's resident memory meanwhile.
  std::atomic<bool> reading{true};
  std::size_t rss_max = rss_before;
  std::thread sampler([&] {
    while (reading) {
      rss_max = std::max(rss_max, dray.memoryBytes("VmRSS"));
      std::this_thread::sleep_for(20ms);
    }
  });
  Poco::Net::HTTPClientSession session("127.0.0.1", dray.port());
  session.setTimeout(Poco::Timespan(120, 0));
  Poco::Net::HTTPRequest request("GET", "/jobs/" + id + "/log");
  session.sendRequest(request);
  Poco::Net::HTTPResponse response;
  std::istream& body = session.receiveResponse(response);
  std::size_t bytes = 0;
  std::size_t zeros_lines = 0;
  char buffer[1 << 16];
  while (body.read(buffer, sizeof buffer) || body.gcount() > 0) {
    bytes += static_cast<std::size_t>(body.gcount());
    zeros_lines += static_cast<std::size_t>(std::count(buffer, buffer + body.gcount(), ','));
  }
  reading = false;
  sampler.join();
  const std::size_t peak_after = dray.memoryBytes("VmHWM");
  std::printf(
      "fork: a %zu MiB log read in one GET; dray's RSS %zu MiB before, at most %zu MiB during (+%zu MiB); peak "
      "%zu -> %zu MiB\n",
      bytes / kMiB, rss_before / kMiB, rss_max / kMiB, (rss_max - rss_before) / kMiB, peak_before / kMiB,
      peak_after / kMiB);
  CHECK(response.getStatus() == 200);
  CHECK(bytes > 1024 * kMiB);
  CHECK(zeros_lines == 1048575);  // commas between 1,048,576 lines: every line came back
  if (!dray::test::sanitized()) {
    CHECK(rss_max - rss_before <= 16 * kMiB);
    CHECK(peak_after - peak_before <= 16 * kMiB);
  }
}

// dray-cli against a running dray on the real engine, plus /metrics and JSON logs.
#include <fstream>

#include <Poco/JSON/Parser.h>
#include <Poco/Net/HTTPRequestHandler.h>
#include <Poco/Net/HTTPRequestHandlerFactory.h>
#include <Poco/Net/HTTPServer.h>
#include <Poco/Net/HTTPServerParams.h>
#include <Poco/Net/HTTPServerRequest.h>
#include <Poco/Net/HTTPServerResponse.h>
#include <Poco/Net/ServerSocket.h>
#include <catch2/catch.hpp>

#include "tests/support/test_support.hpp"

using dray::test::DrayProcess;
using dray::test::EnvMap;
using namespace std::chrono_literals;

namespace {

struct CliResult {
  int status;
  std::string out;
};

// Runs dray-cli with DRAY_URL pointing at `dray`; stderr is folded into `out` when asked.
CliResult cli(const DrayProcess& dray, const std::string& arguments, bool with_stderr = false) {
  int status = 0;
  std::string command = "DRAY_URL=http://127.0.0.1:" + std::to_string(dray.port()) + " " + dray::test::cliBinary() +
                        " " + arguments + (with_stderr ? " 2>&1" : " 2>/dev/null");
  std::string out = dray::test::shell(command, &status);
  return {status, out};
}

std::string writeJob(const dray::test::TempDir& dir, const std::string& name, const std::string& json) {
  std::string path = dir.path() + "/" + name;
  std::ofstream(path) << json;
  return path;
}

const char* kWordJob = R"({"name":"Word Job","steps":[
  {"name":"words","source":"dray-test/randword","environment":[{"variable":"WORD_COUNT","value":"2"}]},
  {"source":"dray-test/upper"}]})";

}  // namespace

TEST_CASE("submit --follow streams the log and exits 0 for a complete job", "[e2e][cli]") {
  DrayProcess dray;
  dray::test::TempDir dir;
  auto run = cli(dray, "submit " + writeJob(dir, "word.json", kWordJob) + " --follow");
  INFO(run.out);
  CHECK(run.status == 0);
  CHECK_THAT(run.out, Catch::Matches("[0-9A-F-]{36}\nalpha\nbravo\nALPHA\nBRAVO\n"));
}

TEST_CASE("submit --wait exits with the job's result", "[e2e][cli]") {
  DrayProcess dray;
  dray::test::TempDir dir;
  auto failing = cli(dray,
                     "submit " + writeJob(dir, "fail.json", R"({"steps":[{"source":"dray-test/script",
      "environment":[{"variable":"SCRIPT","value":"echo doomed; exit 4"}]}]})") +
                         " --wait",
                     true);
  INFO(failing.out);
  CHECK(failing.status == 1);
  CHECK_THAT(failing.out, Catch::Contains(" error after "));
  auto from_stdin = cli(dray, "submit - --wait < " + writeJob(dir, "word.json", kWordJob));
  CHECK(from_stdin.status == 0);
}

TEST_CASE("ls, status, logs, cancel and rm", "[e2e][cli]") {
  DrayProcess dray;
  dray::test::TempDir dir;
  std::string id = dray.submit(kWordJob);
  REQUIRE(dray.waitForJob(id) == "complete");

  auto list = cli(dray, "ls");
  CHECK(list.status == 0);
  CHECK_THAT(list.out, Catch::Contains(id + "  complete   2/2"));
  CHECK_THAT(list.out, Catch::Contains("Word Job"));

  auto status = cli(dray, "status " + id);
  CHECK(status.status == 0);
  CHECK_THAT(status.out, Catch::Contains("state:     complete"));
  CHECK_THAT(status.out, Catch::Contains("1     complete   0     dray-test/randword"));
  auto json = cli(dray, "status " + id + " --json");
  CHECK(Poco::JSON::Parser().parse(json.out).extract<Poco::JSON::Object::Ptr>()->getValue<std::string>("id") == id);

  CHECK(cli(dray, "logs " + id).out == "alpha\nbravo\nALPHA\nBRAVO\n");

  std::string sleeping = dray.submit(
      R"({"steps":[{"source":"dray-test/script","environment":[{"variable":"SCRIPT","value":"sleep 60"}]}]})");
  REQUIRE(dray::test::waitUntil([&] { return dray::test::containersOfJob(sleeping).size() == 1; }, 20s));
  CHECK(cli(dray, "cancel " + sleeping).status == 0);
  CHECK(cli(dray, "logs " + sleeping + " -f").status == 2);  // follows to the end: canceled
  CHECK(cli(dray, "cancel " + sleeping).status == 3);        // 409: not running any more

  CHECK(cli(dray, "rm " + id).status == 0);
  auto gone = cli(dray, "status " + id, true);
  CHECK(gone.status == 3);
  CHECK_THAT(gone.out, Catch::Contains("no such job: " + id + " (HTTP 404)"));
}

TEST_CASE("usage errors and an unreachable dray have their own exit codes", "[e2e][cli]") {
  DrayProcess dray;
  CHECK(cli(dray, "").status == 64);
  CHECK(cli(dray, "frobnicate").status == 64);
  CHECK(cli(dray, "status").status == 64);
  int status = 0;
  dray::test::ClosedPort unreachable;
  std::string out = dray::test::shell(
      dray::test::cliBinary() + " --url http://127.0.0.1:" + std::to_string(unreachable.port()) + " ls 2>&1", &status);
  CHECK(status == 3);
  CHECK_THAT(out, Catch::Contains("cannot reach dray at http://127.0.0.1:"));
}

TEST_CASE("GET /metrics speaks the Prometheus text format", "[e2e][metrics]") {
  DrayProcess dray;
  std::string ok = dray.submit(kWordJob);
  std::string bad = dray.submit(
      R"({"steps":[{"source":"dray-test/script","environment":[{"variable":"SCRIPT","value":"exit 1"}]}]})");
  REQUIRE(dray.waitForJob(ok) == "complete");
  REQUIRE(dray.waitForJob(bad) == "error");
  auto metrics = dray.get("/metrics");
  CHECK(metrics.status == 200);
  CHECK_THAT(metrics.headers.at("Content-Type"), Catch::StartsWith("text/plain; version=0.0.4"));
  const std::string& text = metrics.body;
  CHECK_THAT(text, Catch::Contains("dray_jobs_finished_total{status=\"complete\"} 1\n"));
  CHECK_THAT(text, Catch::Contains("dray_jobs_finished_total{status=\"error\"} 1\n"));
  CHECK_THAT(text, Catch::Contains("dray_steps_total{result=\"ok\"} 2\n"));
  CHECK_THAT(text, Catch::Contains("dray_steps_total{result=\"failed\"} 1\n"));
  CHECK_THAT(text, Catch::Contains("dray_step_duration_seconds_count 3\n"));
  CHECK_THAT(text, Catch::Contains("dray_step_duration_seconds_bucket{le=\"+Inf\"} 3\n"));
  CHECK_THAT(text, Catch::Contains("dray_log_lines_total 4\n"));
  CHECK_THAT(text, Catch::Contains("dray_jobs_queued 0\n"));
  CHECK_THAT(text, Catch::Contains("# TYPE dray_step_duration_seconds histogram\n"));
}

TEST_CASE("LOG_FORMAT=json writes one JSON object per line, requests at debug level", "[e2e][logging]") {
  DrayProcess dray(EnvMap{{"LOG_FORMAT", "json"}, {"LOG_LEVEL", "debug"}});
  dray.get("/jobs/NOPE");
  std::string log = dray.log();
  std::istringstream lines(log.substr(log.find('\n') + 1));  // skip the test's header line
  std::size_t parsed = 0;
  bool saw_request = false;
  for (std::string line; std::getline(lines, line);) {
    auto entry = Poco::JSON::Parser().parse(line).extract<Poco::JSON::Object::Ptr>();
    CHECK(entry->has("time"));
    CHECK(entry->has("level"));
    saw_request |= entry->getValue<std::string>("message").rfind("GET /jobs/NOPE 404", 0) == 0;
    ++parsed;
  }
  CHECK(parsed > 5);
  CHECK(saw_request);
}

TEST_CASE("on a terminal --follow shows which step runs and for how long", "[e2e][cli]") {
  DrayProcess dray;
  dray::test::TempDir dir;
  std::string job = writeJob(dir, "slow.json", R"({"steps":[{"name":"nap","source":"dray-test/script",
      "environment":[{"variable":"SCRIPT","value":"echo before; sleep 1.5; echo after"}]}]})");
  // script(1) gives dray-cli a pseudo-terminal, as a user's shell would.
  int status = 0;
  std::string out = dray::test::shell("script -qec 'DRAY_URL=http://127.0.0.1:" + std::to_string(dray.port()) + " " +
                                          dray::test::cliBinary() + " submit " + job + " --follow' /dev/null",
                                      &status);
  INFO(out);
  CHECK(status == 0);
  CHECK_THAT(out, Catch::Contains("step 1/1 nap (dray-test/script)"));
  CHECK_THAT(out, Catch::Contains("before"));
  CHECK_THAT(out, Catch::Contains("after"));
  CHECK_THAT(out, Catch::Contains(" complete after "));
}

TEST_CASE("wait ID waits with the long-poll and exits with the job's result", "[e2e][cli]") {
  DrayProcess dray;
  const std::string id = dray.submit(R"({"steps":[{"source":"dray-test/script",
      "environment":[{"variable":"SCRIPT","value":"sleep 1; exit 3"}]}]})");
  auto waited = cli(dray, "wait " + id, true);
  INFO(waited.out);
  CHECK(waited.status == 1);
  CHECK_THAT(waited.out, Catch::Contains("job " + id + " error after"));
  // One long-poll request answered it, not a poll loop (requests are logged at debug level).
  CHECK(dray.log().find("GET /jobs/" + id + " 200") == dray.log().rfind("GET /jobs/" + id + " 200"));
  CHECK(cli(dray, "wait 00000000-0000-0000-0000-000000000000").status == 3);
}

namespace {

// A dray from before live events: GET /jobs/{id} and the paged log, 404 for everything else.
class OldDray : public Poco::Net::HTTPRequestHandler {
 public:
  void handleRequest(Poco::Net::HTTPServerRequest& request, Poco::Net::HTTPServerResponse& response) override {
    const std::string uri = request.getURI();
    std::string body;
    if (uri.starts_with("/jobs/OLD-1/log")) {
      body =
          uri.find("index=0") != std::string::npos ? R"({"lines":["one","two"],"next":2})" : R"({"lines":[],"next":2})";
    } else if (uri.starts_with("/jobs/OLD-1") && uri.find("/events") == std::string::npos) {
      body = R"({"id":"OLD-1","stepsCompleted":1,"status":"complete","state":"complete","steps":[]})";
    } else {
      response.setStatus(Poco::Net::HTTPResponse::HTTP_NOT_FOUND);
      body = R"({"error":"no route"})";
    }
    response.setContentType("application/json");
    response.setContentLength(static_cast<std::streamsize>(body.size()));
    response.send() << body;
  }
};

class OldDrayFactory : public Poco::Net::HTTPRequestHandlerFactory {
 public:
  Poco::Net::HTTPRequestHandler* createRequestHandler(const Poco::Net::HTTPServerRequest&) override {
    return new OldDray;
  }
};

}  // namespace

TEST_CASE("logs -f and wait fall back to polling against a dray without live events", "[e2e][cli]") {
  Poco::Net::ServerSocket socket(Poco::Net::SocketAddress("127.0.0.1", 0));
  Poco::Net::HTTPServer server(new OldDrayFactory, socket, new Poco::Net::HTTPServerParams);
  server.start();
  const std::string url = "DRAY_URL=http://127.0.0.1:" + std::to_string(server.port()) + " ";
  int status = -1;
  std::string out = dray::test::shell(url + dray::test::cliBinary() + " logs OLD-1 -f 2>&1", &status);
  INFO(out);
  CHECK(status == 0);
  CHECK_THAT(out, Catch::StartsWith("one\ntwo\n"));
  CHECK_THAT(out, Catch::Contains("job OLD-1 complete after"));
  out = dray::test::shell(url + dray::test::cliBinary() + " wait OLD-1 2>&1", &status);
  CHECK(status == 0);
  server.stop();
}

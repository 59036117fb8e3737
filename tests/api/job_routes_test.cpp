#include "api/job_routes.hpp"

#include <Poco/JSON/Parser.h>
#include <catch2/catch.hpp>

#include "plugins/output/stdout/stdout_channel.hpp"
#include "plugins/storage/memory/memory_storage.hpp"
#include "tests/fakes/fake_runtime.hpp"
#include "tests/support/test_support.hpp"

namespace {

using namespace dray;

struct Api {
  test::FakeRuntime runtime;
  plugins::storage::memory::MemoryStorage storage;
  core::ChannelSet channels;
  core::JobRunner runner{storage, runtime, {2, 100, 1024, 1 << 20, "test"}};
  core::JobService service{storage, runner, channels};
  core::JobWatch watch{storage};
  api::Router router;

  Api() {
    channels.add("stdout", std::make_shared<plugins::output::stdout::StdoutChannel>());
    runtime.define("hello", [](const std::string&, const sdk::ContainerSpec&) {
      return test::FakeStepResult{"hello\nworld\n", "", 0, {}};
    });
    api::addJobRoutes(router, service, runner, watch);
  }

  api::Response call(const std::string& method, const std::string& path, const std::string& body = "",
                     std::multimap<std::string, std::string> query = {}) {
    api::Request request;
    request.method = method;
    request.path = path;
    request.query = std::move(query);
    request.body = body;
    api::Response response = router.dispatch(request);
    if (response.stream) {  // what the front would send, piece by piece
      while (auto piece = response.stream->next()) response.body += *piece;
      response.stream.reset();
    }
    return response;
  }

  std::string createHelloJob() {
    auto created = call("POST", "/jobs", R"({"name":"hi","steps":[{"source":"hello"}]})");
    REQUIRE(created.status == 201);
    std::string id =
        Poco::JSON::Parser().parse(created.body).extract<Poco::JSON::Object::Ptr>()->getValue<std::string>("id");
    REQUIRE(test::waitUntil([&] { return storage.getJob(id)->status == "complete"; }, std::chrono::seconds(10)));
    return id;
  }
};

}  // namespace

TEST_CASE("POST /jobs answers 201 with the job echoed and an upper-case id", "[api][jobs]") {
  Api api;
  auto created = api.call("POST", "/jobs", R"({"name":"hi","steps":[{"source":"hello"}]})");
  CHECK(created.status == 201);
  CHECK_THAT(
      created.body,
      Catch::Matches(
          R"(\{"id":"[0-9A-F]{8}-[0-9A-F]{4}-[0-9A-F]{4}-[0-9A-F]{4}-[0-9A-F]{12}","name":"hi","steps":\[\{"source":"hello"\}\]\})"));
}

TEST_CASE("GET /jobs, /jobs/{id} and /jobs/{id}/log report the job", "[api][jobs]") {
  Api api;
  std::string id = api.createHelloJob();
  CHECK(api.call("GET", "/jobs").body == R"([{"id":")" + id + R"("}])");
  auto job = api.call("GET", "/jobs/" + id).body;
  // The original's three fields come first, unchanged; the rest is additive.
  CHECK_THAT(job, Catch::StartsWith(R"({"id":")" + id +
                                    R"(","stepsCompleted":1,"status":"complete","state":"complete",)"
                                    R"("totalSteps":1,"name":"hi","createdAt":")"));
  auto parsed = Poco::JSON::Parser().parse(job).extract<Poco::JSON::Object::Ptr>();
  auto step = parsed->getArray("steps")->getObject(0);
  CHECK(step->getValue<std::string>("image") == "hello");
  CHECK(step->getValue<std::string>("state") == "complete");
  CHECK(step->getValue<int>("exitCode") == 0);
  CHECK_FALSE(step->getValue<std::string>("finishedAt").empty());
  CHECK(parsed->getValue<std::string>("createdAt") <= parsed->getValue<std::string>("startedAt"));
  CHECK(parsed->getValue<std::string>("startedAt") <= parsed->getValue<std::string>("finishedAt"));
  CHECK(api.call("GET", "/jobs/" + id + "/log").body == R"({"lines":["hello","world"]})");
  CHECK(api.call("GET", "/v1/jobs/" + id + "/log", "", {{"index", "1"}}).body == R"({"lines":["world"]})");
  CHECK(api.call("GET", "/jobs/" + id + "/log", "", {{"index", "99"}}).body == R"({"lines":[]})");
}

TEST_CASE("a bad index is a 400", "[api][jobs]") {
  Api api;
  std::string id = api.createHelloJob();
  for (const std::string bad : {"-1", "abc", "1.5", "+3", "99999999999999999999999"}) {
    INFO(bad);
    auto response = api.call("GET", "/jobs/" + id + "/log", "", {{"index", bad}});
    CHECK(response.status == 400);
    CHECK_THAT(response.body, Catch::Contains("index must be a non-negative whole number"));
  }
}

TEST_CASE("DELETE removes a job and unknown ids are 404", "[api][jobs]") {
  Api api;
  std::string id = api.createHelloJob();
  CHECK(api.call("DELETE", "/jobs/" + id).status == 204);
  CHECK(api.call("GET", "/jobs/" + id).status == 404);
  CHECK(api.call("DELETE", "/jobs/" + id).status == 404);
  CHECK(api.call("GET", "/jobs/" + id + "/log").status == 404);
  CHECK(api.call("GET", "/jobs/NOPE").body == R"({"error":"no such job: NOPE"})");
}

TEST_CASE("invalid jobs are 400 and never stored", "[api][jobs]") {
  Api api;
  auto response = api.call("POST", "/jobs", R"({"steps":[{"source":"hello","output":"carrier-pigeon"}]})");
  CHECK(response.status == 400);
  CHECK_THAT(response.body, Catch::Contains("steps[0].output 'carrier-pigeon' is not stdout"));
  CHECK(api.call("POST", "/jobs", "not json").status == 400);
  CHECK(api.call("GET", "/jobs").body == "[]");
}

TEST_CASE("GET /jobs?limit pages job summaries newest first, with a next cursor and a status filter", "[api][jobs]") {
  Api api;
  std::vector<std::string> ids;  // oldest first
  for (int i = 0; i < 5; ++i) ids.push_back(api.createHelloJob());
  auto page = [&](const std::multimap<std::string, std::string>& query) {
    auto answer = api.call("GET", "/jobs", "", query);
    REQUIRE(answer.status == 200);
    return Poco::JSON::Parser().parse(answer.body).extract<Poco::JSON::Object::Ptr>();
  };
  auto idsOf = [](const Poco::JSON::Object::Ptr& answer) {
    std::vector<std::string> listed;
    auto jobs = answer->getArray("jobs");
    for (std::size_t i = 0; i < jobs->size(); ++i) listed.push_back(jobs->getObject(i)->getValue<std::string>("id"));
    return listed;
  };
  auto first = page({{"limit", "2"}});
  CHECK(idsOf(first) == std::vector<std::string>{ids[4], ids[3]});
  REQUIRE(first->getValue<std::string>("next") == ids[3]);
  auto summary = first->getArray("jobs")->getObject(0);
  CHECK(summary->getValue<std::string>("name") == "hi");
  CHECK(summary->getValue<std::string>("status") == "complete");
  CHECK(summary->getValue<std::size_t>("stepsCompleted") == 1);
  CHECK(summary->getValue<std::size_t>("totalSteps") == 1);
  CHECK(summary->has("createdAt"));
  CHECK(summary->has("finishedAt"));
  auto second = page({{"limit", "2"}, {"before", ids[3]}});
  CHECK(idsOf(second) == std::vector<std::string>{ids[2], ids[1]});
  auto last = page({{"limit", "2"}, {"before", second->getValue<std::string>("next")}});
  CHECK(idsOf(last) == std::vector<std::string>{ids[0]});
  CHECK(last->isNull("next"));
  CHECK(idsOf(page({{"status", "complete"}})).size() == 5);  // default page size 50
  CHECK(idsOf(page({{"status", "running"}})).empty());
  // The plain list stays exactly the original's.
  CHECK(api.call("GET", "/jobs").body.starts_with(R"([{"id":")" + ids[0] + R"("})"));
  CHECK(api.call("GET", "/jobs", "", {{"limit", "0"}}).status == 400);
  CHECK(api.call("GET", "/jobs", "", {{"limit", "1001"}}).status == 400);
  CHECK(api.call("GET", "/jobs", "", {{"status", "done"}}).status == 400);
  auto unknown = api.call("GET", "/jobs", "", {{"limit", "2"}, {"before", "NOPE"}});
  CHECK(unknown.status == 400);
  CHECK(unknown.body.find("before must be the id of a listed job") != std::string::npos);
}

TEST_CASE("GET /jobs?name keeps jobs whose name contains it, ignoring case", "[api][jobs]") {
  Api api;
  for (const char* name : {"Nightly Build", "report", "build docs"}) {
    REQUIRE(
        api.call("POST", "/jobs", std::string(R"({"name":")") + name + R"(","steps":[{"source":"hello"}]})").status ==
        201);
  }
  auto names = [&](const std::string& filter) {
    auto page = Poco::JSON::Parser()
                    .parse(api.call("GET", "/jobs", "", {{"name", filter}}).body)
                    .extract<Poco::JSON::Object::Ptr>();
    std::vector<std::string> found;
    for (const auto& job : *page->getArray("jobs"))
      found.push_back(job.extract<Poco::JSON::Object::Ptr>()->getValue<std::string>("name"));
    return found;
  };
  CHECK(names("BUILD") == std::vector<std::string>{"build docs", "Nightly Build"});
  CHECK(names("port") == std::vector<std::string>{"report"});
  CHECK(names("nothing like it").empty());
  CHECK(api.call("GET", "/jobs", "", {{"name", std::string(257, 'x')}}).status == 400);
}

TEST_CASE("GET /jobs/{id}/definition answers the job as stored, secrets masked", "[api][jobs]") {
  Api api;
  auto created = api.call("POST", "/jobs",
                          R"({"name":"s","secrets":[{"variable":"KEY","value":"k-1234567890"}],)"
                          R"("environment":[{"variable":"A","value":"1"}],"steps":[{"source":"hello"}]})");
  REQUIRE(created.status == 201);
  const std::string id =
      Poco::JSON::Parser().parse(created.body).extract<Poco::JSON::Object::Ptr>()->getValue<std::string>("id");
  auto definition = api.call("GET", "/jobs/" + id + "/definition");
  CHECK(definition.status == 200);
  CHECK(definition.body == created.body);
  CHECK_THAT(definition.body, Catch::Contains(R"({"variable":"KEY","value":"***"})"));
  CHECK(definition.body.find("k-1234567890") == std::string::npos);
  CHECK(api.call("GET", "/jobs/no-such-job/definition").status == 404);
}

// Bad input against the real dray binary over HTTP: always a 4xx JSON error, never a crash.
#include <Poco/JSON/Array.h>
#include <Poco/JSON/Parser.h>
#include <catch2/catch.hpp>

#include "tests/support/test_support.hpp"

using dray::test::DrayProcess;

namespace {

void checkJsonError(const dray::test::HttpResult& result, int status, const std::string& fragment) {
  INFO(result.body);
  CHECK(result.status == status);
  CHECK(result.headers.at("Content-Type") == "application/json");
  CHECK(result.json()->getValue<std::string>("error").find(fragment) != std::string::npos);
}

}  // namespace

TEST_CASE("invalid jobs get 400 with the problem named", "[http][api]") {
  DrayProcess dray;
  checkJsonError(dray.post("/jobs", "{not json"), 400, "not valid JSON");
  checkJsonError(dray.post("/jobs", ""), 400, "request body is empty");
  checkJsonError(dray.post("/jobs", "{}"), 400, "non-empty steps");
  checkJsonError(dray.post("/jobs", R"({"steps":[]})"), 400, "non-empty steps");
  checkJsonError(dray.post("/jobs", R"({"steps":[{"name":"x"}]})"), 400, "steps[0] needs a source");
  checkJsonError(dray.post("/jobs", R"({"steps":[{"source":"a","output":"fax"}]})"), 400, "output 'fax'");
  checkJsonError(dray.post("/jobs", R"({"steps":[{"source":"a","output":"/../etc/passwd"}]})"), 400, "output");
  checkJsonError(dray.post("/jobs", R"({"steps":[{"source":"a","environment":[{"value":"v"}]}]})"), 400,
                 "needs a non-empty variable");
  checkJsonError(dray.post("/v2/jobs", R"({"steps":[{"source":1e999}]})"), 400, "");
  CHECK(dray.get("/jobs").body == "[]");  // nothing was stored
  CHECK(dray.running());
}

TEST_CASE("unknown ids are 404, wrong methods 405, unknown paths 404", "[http][api]") {
  DrayProcess dray;
  checkJsonError(dray.get("/jobs/0000"), 404, "no such job");
  checkJsonError(dray.get("/jobs/0000/log"), 404, "no such job");
  checkJsonError(dray.del("/jobs/0000"), 404, "no such job");
  auto wrong = dray::test::httpRequest(dray.port(), "PUT", "/jobs", "{}");
  checkJsonError(wrong, 405, "not allowed");
  CHECK(wrong.headers.at("Allow") == "POST, GET");
  checkJsonError(dray.get("/nothing"), 404, "no such endpoint");
  checkJsonError(dray.get("/jobs/0000/log?index=x"), 400, "index must be");  // input is checked first
}

TEST_CASE("oversized bodies get 413 and malformed HTTP does not hurt the server", "[http][api]") {
  DrayProcess dray(dray::test::EnvMap{{"DRAY_MAX_BODY", "4096"}});
  checkJsonError(dray.post("/jobs", std::string(5000, ' ')), 413, "larger than 4096 bytes");
  std::string answer =
      dray::test::rawRequest(dray.port(), "POST /jobs HTTP/1.1\r\nHost: x\r\nContent-Length: 999999999\r\n\r\n{");
  CHECK_THAT(answer, Catch::StartsWith("HTTP/1.1 413"));
  dray::test::rawRequest(dray.port(), "GARBAGE\r\n\r\n");
  dray::test::rawRequest(dray.port(), std::string(10000, 'A'));
  dray::test::rawRequest(dray.port(), "POST /jobs HTTP/1.1\r\nContent-Length: 100\r\n\r\n{\"steps\"");  // short body
  CHECK(dray.get("/jobs").status == 200);
  CHECK(dray.running());
}

TEST_CASE("GET /plugins lists every loaded plugin with its file and options", "[http][api]") {
  DrayProcess dray;
  auto result = dray.get("/plugins");
  REQUIRE(result.status == 200);
  Poco::JSON::Parser parser;
  auto list = parser.parse(result.body).extract<Poco::JSON::Array::Ptr>();
  std::vector<std::string> names;
  for (std::size_t i = 0; i < list->size(); ++i) {
    auto plugin = list->getObject(i);
    names.push_back(plugin->getValue<std::string>("kind") + "/" + plugin->getValue<std::string>("name"));
    CHECK(plugin->getValue<std::string>("version") == "1.0.0");
    CHECK_THAT(plugin->getValue<std::string>("file"), Catch::StartsWith(dray::test::pluginDir() + "/dray-"));
    if (plugin->getValue<std::string>("name") == "docker") {
      auto option = plugin->getArray("options")->getObject(0);
      CHECK(option->getValue<std::string>("name") == "host");
      CHECK(option->getValue<std::string>("env") == "DOCKER_HOST");
    }
  }
  CHECK(names == std::vector<std::string>{"output/file", "output/stderr", "output/stdout", "runtime/docker",
                                          "storage/memory", "storage/redis"});
  CHECK(dray::test::httpRequest(dray.port(), "POST", "/plugins", "{}").status == 405);
}

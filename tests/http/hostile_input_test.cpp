// Hostile and malformed requests against the real dray binary: every one gets a 4xx (JSON
// when it reached our handlers), nothing is stored, and the server keeps serving.
#include <catch2/catch.hpp>

#include "tests/support/test_support.hpp"

using dray::test::DrayProcess;
using dray::test::EnvMap;

namespace {

struct Case {
  const char* what;
  std::string method;
  std::string path;
  std::string body;
  int status;
};

std::string step(const std::string& fields) { return R"({"steps":[{"source":"dray-test/upper")" + fields + "}]}"; }

}  // namespace

TEST_CASE("malformed and adversarial requests get 4xx JSON errors and change nothing", "[http][hostile]") {
  DrayProcess dray(EnvMap{{"DRAY_MAX_BODY", "65536"}});
  const std::vector<Case> cases = {
      {"empty body", "POST", "/jobs", "", 400},
      {"truncated JSON", "POST", "/jobs", R"({"steps":[{"source":"a"})", 400},
      {"trailing garbage", "POST", "/jobs", step("") + "xyz", 400},
      {"not JSON at all", "POST", "/jobs", "<xml/>", 400},
      {"JSON array", "POST", "/jobs", "[]", 400},
      {"JSON number", "POST", "/jobs", "42", 400},
      {"JSON null", "POST", "/jobs", "null", 400},
      {"deep nesting", "POST", "/jobs", std::string(5000, '[') + std::string(5000, ']'), 400},
      {"steps is a string", "POST", "/jobs", R"({"steps":"upper"})", 400},
      {"steps is null", "POST", "/jobs", R"({"steps":null})", 400},
      {"step is a number", "POST", "/jobs", R"({"steps":[7]})", 400},
      {"source is an object", "POST", "/jobs", R"({"steps":[{"source":{"image":"a"}}]})", 400},
      {"source is empty", "POST", "/jobs", R"({"steps":[{"source":""}]})", 400},
      {"refresh is a string", "POST", "/jobs", step(R"(,"refresh":"true")"), 400},
      {"name is an array", "POST", "/jobs", R"({"name":["x"],"steps":[{"source":"a"}]})", 400},
      {"env is an object", "POST", "/jobs", step(R"(,"environment":{"A":"1"})"), 400},
      {"env value is a number", "POST", "/jobs", step(R"(,"environment":[{"variable":"A","value":1}])"), 400},
      {"env variable with =", "POST", "/jobs", step(R"(,"environment":[{"variable":"A=B","value":"1"}])"), 400},
      {"timeout is a string", "POST", "/jobs", step(R"(,"timeout":"10")"), 400},
      {"negative timeout", "POST", "/jobs", step(R"(,"timeout":-1)"), 400},
      {"huge timeout", "POST", "/jobs", step(R"(,"timeout":1e308)"), 400},
      {"zero deadline", "POST", "/jobs", R"({"deadline":0,"steps":[{"source":"a"}]})", 400},
      {"raw byte 0xFF", "POST", "/jobs", "{\"steps\":[{\"source\":\"\xff\"}", 400},
      {"huge number", "POST", "/jobs", step(R"(,"timeout":123456789012345678901234567890)"), 400},
      {"path traversal in output", "POST", "/jobs", step(R"(,"output":"/../../etc/shadow")"), 400},
      {"relative output", "POST", "/jobs", step(R"(,"output":"../out.txt")"), 400},
      {"dot segment output", "POST", "/jobs", step(R"(,"output":"/tmp/./x")"), 400},
      {"NUL in output", "POST", "/jobs", step(R"(,"output":"/tmp/a\u0000b")"), 400},
      {"unknown output scheme", "POST", "/jobs", step(R"(,"output":"s3://bucket/key")"), 400},
      {"one delimiter only", "POST", "/jobs", step(R"(,"endDelimiter":"END")"), 400},
      {"too many steps", "POST", "/jobs",
       [] {
         std::string steps;
         for (int i = 0; i < 300; ++i) steps += std::string(i ? "," : "") + R"({"source":"a"})";
         return R"({"steps":[)" + steps + "]}";
       }(),
       400},
      {"overlong string", "POST", "/jobs", step(R"(,"name":")" + std::string(65537, 'n') + R"(")"), 413},
      {"body over the limit", "POST", "/jobs", std::string(70000, ' '), 413},
      {"bad index", "GET", "/jobs/X/log?index=-5", "", 400},
      {"huge index", "GET", "/jobs/X/log?index=99999999999999999999999", "", 400},
      {"unicode index", "GET", "/jobs/X/log?index=%E2%91%A0", "", 400},
      {"unknown job", "GET", "/jobs/..%2F..%2Fetc%2Fpasswd", "", 404},
      {"unknown route", "GET", "/admin", "", 404},
      {"wrong method", "PATCH", "/jobs", "{}", 405},
      {"cancel unknown job", "POST", "/jobs/NOPE/cancel", "", 404},
  };
  REQUIRE(cases.size() >= 30);
  for (const auto& c : cases) {
    INFO(c.what);
    auto result = dray::test::httpRequest(dray.port(), c.method, c.path, c.body);
    CHECK(result.status == c.status);
    CHECK(result.headers["Content-Type"] == "application/json");
    CHECK_FALSE(result.json()->getValue<std::string>("error").empty());
  }
  // Unicode where it is allowed is fine: a name and env values in any language.
  auto fine = dray.post(
      "/jobs",
      R"({"name":"Wörter ✓ 日本語","steps":[{"source":"dray-test/no-image","environment":[{"variable":"GRÜSSE","value":"😀"}]}]})");
  CHECK(fine.status == 201);
  CHECK(dray.get("/jobs").body == R"([{"id":")" + fine.json()->getValue<std::string>("id") + R"("}])");  // only it
  CHECK(dray.running());
}

TEST_CASE("protocol-level garbage is refused and the server stays up", "[http][hostile]") {
  DrayProcess dray(EnvMap{{"DRAY_MAX_BODY", "4096"}, {"DRAY_BODY_TIMEOUT", "1"}});
  struct Case {
    std::string bytes;
    int status;  // the answer every one of them must get: an empty answer fails
  };
  const std::vector<Case> cases = {
      {"GARBAGE\r\n\r\n", 400},
      {std::string(20000, 'A'), 431},  // a request line past the head limit
      {"GET /" + std::string(100000, 'x') + " HTTP/1.1\r\nHost: x\r\n\r\n", 431},
      {"POST /jobs HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n{\"steps\"", 400},  // ends early
      {"POST /jobs HTTP/1.1\r\nHost: x\r\nContent-Length: -5\r\n\r\n{}", 400},
      {"POST /jobs HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\n{}{}{}{}", 400},  // longer than announced
      {"POST /jobs HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n", 400},
      {"POST /jobs HTTP/1.1\r\nHost: x\r\nContent-Length: 999999999999\r\n\r\n{", 413},
      {"GET /jobs HTTP/1.1\r\n" + std::string(200, 'H') + ": " + std::string(20000, 'v') + "\r\n\r\n", 431},
      {"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03", 400},  // a TLS hello on the plain port
      {"GET /jobs HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\nContent-Length: 1\r\n\r\nx", 400},
      {"GET /jobs HTTP/1.1\r\nHost: x\r\n", 400},  // the head ends before its blank line
  };
  for (const auto& c : cases) {
    std::string answer = dray::test::rawRequest(dray.port(), c.bytes);
    INFO(c.bytes.substr(0, 60) << " -> " << answer.substr(0, 120));
    CHECK_THAT(answer, Catch::StartsWith("HTTP/1.1 " + std::to_string(c.status) + " "));
    CHECK_THAT(answer, Catch::Contains("{\"error\":"));
    REQUIRE(dray.get("/jobs").status == 200);
  }
  CHECK(dray.get("/jobs").body == "[]");
  CHECK(dray.running());
}

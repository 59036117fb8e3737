// Issue #12, API half, end to end: bearer tokens and roles on every route, user isolation,
// tokens kept out of the log, refused start-ups, the exposure warning (TLS: tls_test.cpp).
// Real binary, real engine where a job runs, loopback only.
#include <set>

#include <Poco/JSON/Array.h>
#include <Poco/JSON/Parser.h>
#include <catch2/catch.hpp>

#include "tests/http/auth_fixture.hpp"
#include "tests/support/sse_client.hpp"
#include "tests/support/test_support.hpp"

using dray::test::DrayProcess;
using dray::test::EnvMap;
using dray::test::HttpResult;
using dray::test::TempDir;
using namespace std::chrono_literals;
using namespace dray::test::auth;

namespace {

// One request as a caller: "" sends no Authorization field.
HttpResult as(const DrayProcess& dray, const std::string& token, const std::string& method, const std::string& path,
              const std::string& body = "") {
  std::map<std::string, std::string> headers;
  if (!token.empty()) headers["Authorization"] = "Bearer " + token;
  return dray::test::httpRequest(dray.port(), method, path, body, headers);
}

std::string submitAs(const DrayProcess& dray, const std::string& token, const std::string& job) {
  HttpResult created = as(dray, token, "POST", "/jobs", job);
  INFO(created.body);
  REQUIRE(created.status == 201);
  return created.json()->getValue<std::string>("id");
}

std::string statusOf(const DrayProcess& dray, const std::string& token, const std::string& id) {
  HttpResult job = as(dray, token, "GET", "/jobs/" + id);
  return job.status == 200 ? job.json()->getValue<std::string>("status") : "http " + std::to_string(job.status);
}

bool waitForStatus(const DrayProcess& dray, const std::string& id, const std::string& wanted) {
  return dray::test::waitUntil([&] { return statusOf(dray, kAdminToken, id) == wanted; }, 60s, 100ms);
}

std::set<std::string> listedIds(const DrayProcess& dray, const std::string& token) {
  HttpResult list = as(dray, token, "GET", "/jobs");
  REQUIRE(list.status == 200);
  Poco::JSON::Parser parser;
  auto array = parser.parse(list.body).extract<Poco::JSON::Array::Ptr>();
  std::set<std::string> ids;
  for (std::size_t i = 0; i < array->size(); ++i) ids.insert(array->getObject(i)->getValue<std::string>("id"));
  return ids;
}

std::string header(const HttpResult& result, const std::string& name) {
  auto it = result.headers.find(name);
  return it == result.headers.end() ? "" : it->second;
}

// The status, and for refusals the JSON error body and WWW-Authenticate of RFC 6750.
void checkAnswer(const HttpResult& result, int expected, const std::string& token) {
  INFO(result.body);
  CHECK(result.status == expected);
  if (expected >= 400) CHECK_FALSE(result.json()->getValue<std::string>("error").empty());
  if (expected == 401) {
    CHECK(header(result, "WWW-Authenticate") ==
          (token.empty() ? R"(Bearer realm="dray")" : R"(Bearer realm="dray", error="invalid_token")"));
  } else {
    CHECK(header(result, "WWW-Authenticate").empty());
  }
}

}  // namespace

TEST_CASE("every route answers each kind of caller as the role table says", "[http][e2e][auth]") {
  TempDir dir;
  DrayProcess dray(authEnv(dir));
  INFO(dray.log());
  const std::string alices = submitAs(dray, kAliceToken, kQuickJob);
  const std::string bobs = submitAs(dray, kBobToken, kQuickJob);
  REQUIRE(waitForStatus(dray, alices, "complete"));
  REQUIRE(waitForStatus(dray, bobs, "complete"));

  struct Caller {
    const char* who;
    std::string token;
  };
  const std::vector<Caller> callers{{"none", ""},           {"wrong", kWrongToken}, {"admin", kAdminToken},
                                    {"alice", kAliceToken}, {"bob", kBobToken},     {"reader", kReaderToken}};
  struct Row {
    std::string method, path, body;
    std::vector<int> expected;  // per caller, in the order above; 0: checked below instead
  };
  const std::string job = "/jobs/" + alices;
  // POST /jobs carries an invalid job: the 400 shows the caller got past authorization.
  // The finished job cannot be canceled: 409 likewise.
  const std::vector<Row> rows{
      {"GET", "/healthz", "", {200, 200, 200, 200, 200, 200}},
      {"GET", "/metrics", "", {401, 401, 200, 200, 200, 200}},
      {"GET", "/plugins", "", {401, 401, 200, 200, 200, 200}},
      {"GET", "/jobs", "", {401, 401, 200, 200, 200, 200}},
      {"GET", "/v1/jobs", "", {401, 401, 200, 200, 200, 200}},
      {"POST", "/jobs", "{}", {401, 401, 400, 400, 400, 403}},
      {"GET", job, "", {401, 401, 200, 200, 404, 200}},
      {"GET", "/v1" + job, "", {401, 401, 200, 200, 404, 200}},
      {"GET", job + "/log", "", {401, 401, 200, 200, 404, 200}},
      {"POST", job + "/cancel", "", {401, 401, 409, 409, 404, 403}},
      {"DELETE", job, "", {401, 401, 0, 0, 404, 403}},
      {"GET", "/jobs/no-such-job", "", {401, 401, 404, 404, 404, 404}},
      {"GET", "/jobs/no-such-job/log", "", {401, 401, 404, 404, 404, 404}},
      {"POST", "/jobs/no-such-job/cancel", "", {401, 401, 404, 404, 404, 403}},
      {"DELETE", "/jobs/no-such-job", "", {401, 401, 404, 404, 404, 403}},
      {"GET", "/no/such/route", "", {401, 401, 404, 404, 404, 404}},
      {"GET", job + "/definition", "", {401, 401, 200, 200, 404, 403}},
      // The web UI's files hold no data: public, even to a wrong token.
      {"GET", "/ui/index.html", "", {200, 200, 200, 200, 200, 200}},
      {"GET", "/ui/", "", {200, 200, 200, 200, 200, 200}},
      {"GET", "/ui/no-such-file.js", "", {404, 404, 404, 404, 404, 404}},
      {"GET", "/", "", {404, 404, 404, 404, 404, 404}},  // not a browser: no redirect
      {"PUT", "/jobs", "", {401, 401, 405, 405, 405, 405}},
  };
  for (const auto& row : rows) {
    for (std::size_t i = 0; i < callers.size(); ++i) {
      if (row.expected[i] == 0) continue;
      INFO(row.method << " " << row.path << " as " << callers[i].who);
      checkAnswer(as(dray, callers[i].token, row.method, row.path, row.body), row.expected[i], callers[i].token);
    }
  }
  // A field that is not a bearer token is no token at all.
  for (const std::string& value :
       std::vector<std::string>{"Basic YWxpY2U6c2VjcmV0", "Bearer", "Bearer ", kAliceToken}) {
    INFO(value);
    auto answer = dray::test::httpRequest(dray.port(), "GET", "/jobs", "", {{"Authorization", value}});
    checkAnswer(answer, 401, "");
  }
  // The scheme is case-insensitive (RFC 9110).
  CHECK(dray::test::httpRequest(dray.port(), "GET", "/jobs", "", {{"Authorization", "bearer " + kAliceToken}}).status ==
        200);
  // A read token is refused before the body is looked at; a user token may submit.
  checkAnswer(as(dray, kReaderToken, "POST", "/jobs", kQuickJob), 403, kReaderToken);
  CHECK_THAT(as(dray, kReaderToken, "POST", "/jobs", kQuickJob).body,
             Catch::Contains("reader") && Catch::Contains("read"));

  checkAnswer(as(dray, kAliceToken, "DELETE", job), 204, kAliceToken);
  checkAnswer(as(dray, kAdminToken, "GET", job), 404, kAdminToken);
  checkAnswer(as(dray, kAdminToken, "DELETE", "/jobs/" + bobs), 204, kAdminToken);  // admin deletes anyone's
  checkAnswer(as(dray, kBobToken, "GET", "/jobs/" + bobs), 404, kBobToken);
}

TEST_CASE("a user token sees and changes only its own jobs while admin and read see all", "[http][e2e][auth]") {
  TempDir dir;
  DrayProcess dray(authEnv(dir));
  INFO(dray.log());
  const std::string alices = submitAs(dray, kAliceToken, kQuickJob);
  const std::string bobs = submitAs(dray, kBobToken, kQuickJob);
  const std::string admins = submitAs(dray, kAdminToken, kQuickJob);
  for (const auto& id : {alices, bobs, admins}) REQUIRE(waitForStatus(dray, id, "complete"));

  CHECK(listedIds(dray, kAliceToken) == std::set<std::string>{alices});
  CHECK(listedIds(dray, kBobToken) == std::set<std::string>{bobs});
  CHECK(listedIds(dray, kAdminToken) == std::set<std::string>{alices, bobs, admins});
  CHECK(listedIds(dray, kReaderToken) == std::set<std::string>{alices, bobs, admins});

  // The record names the submitting token, whoever reads it; never the token itself.
  for (const auto& token : {kAliceToken, kAdminToken, kReaderToken}) {
    HttpResult job = as(dray, token, "GET", "/jobs/" + alices);
    REQUIRE(job.status == 200);
    CHECK(job.json()->getValue<std::string>("creator") == "alice");
    CHECK_FALSE(contains(job.body, kAliceToken));
  }
  CHECK(as(dray, kAdminToken, "GET", "/jobs/" + admins).json()->getValue<std::string>("creator") == "default");
  CHECK(as(dray, kAliceToken, "GET", "/jobs/" + alices + "/log").json()->getArray("lines")->size() > 0);

  // Bob cannot tell alice's running job from a job that does not exist, nor stop it.
  const std::string running = submitAs(dray, kAliceToken, kSleepJob);
  REQUIRE(dray::test::waitUntil([&] { return !dray::test::containersOfJob(running, "running").empty(); }, 60s, 100ms));
  for (const auto& [method, suffix] : std::vector<std::pair<std::string, std::string>>{
           {"GET", ""}, {"GET", "/log"}, {"POST", "/cancel"}, {"DELETE", ""}}) {
    INFO(method << suffix);
    HttpResult theirs = as(dray, kBobToken, method, "/jobs/" + running + suffix);
    HttpResult unknown = as(dray, kBobToken, method, "/jobs/00000000-0000-0000-0000-000000000000" + suffix);
    CHECK(theirs.status == 404);
    CHECK(unknown.status == 404);
    CHECK_THAT(theirs.body, Catch::Contains("no such job"));
  }
  CHECK(as(dray, kReaderToken, "POST", "/jobs/" + running + "/cancel").status == 403);
  CHECK(statusOf(dray, kAliceToken, running) == "running");
  CHECK(as(dray, kAliceToken, "POST", "/jobs/" + running + "/cancel").status == 202);
  CHECK(waitForStatus(dray, running, "canceled"));
  // A job of bob's that admin cancels.
  const std::string bobs_running = submitAs(dray, kBobToken, kSleepJob);
  CHECK(as(dray, kAdminToken, "POST", "/jobs/" + bobs_running + "/cancel").status == 202);
  CHECK(waitForStatus(dray, bobs_running, "canceled"));
}

TEST_CASE("no token reaches the log even at trace level but token names do", "[http][e2e][auth]") {
  TempDir dir;
  EnvMap env = authEnv(dir);
  env["LOG_LEVEL"] = "trace";
  DrayProcess dray(env);
  const std::string id = submitAs(dray, kAliceToken, kQuickJob);
  REQUIRE(waitForStatus(dray, id, "complete"));
  for (int round = 0; round < 5; ++round) {
    for (const auto& token : kAllTokens) {
      as(dray, token, "GET", "/jobs");
      as(dray, token, "GET", "/jobs/" + id);
      as(dray, token, "GET", "/jobs/" + id + "/log?index=0");
      as(dray, token, "POST", "/jobs", "{}");
      as(dray, token, "POST", "/jobs/" + id + "/cancel");
      as(dray, token, "GET", "/metrics");
      as(dray, token, "GET", "/nowhere");
    }
    // A token in odd places: another scheme, a second field, a query parameter.
    dray::test::httpRequest(dray.port(), "GET", "/jobs", "", {{"Authorization", "Token " + kAliceToken}});
    dray::test::httpRequest(dray.port(), "GET", "/jobs?access_token=" + kBobToken, "", {{"X-Api-Key", kAdminToken}});
  }
  as(dray, kAdminToken, "DELETE", "/jobs/" + id);
  // The request lines are written by handler threads: wait for the last one.
  REQUIRE(dray::test::waitUntil([&] { return contains(dray.log(), "DELETE /jobs/" + id + " 204"); }, 10s));
  dray.stop();
  const std::string log = dray.log();
  INFO(log);
  for (const auto& token : kAllTokens) CHECK_FALSE(contains(log, token));
  CHECK(contains(log, "POST /jobs 201"));
  CHECK(contains(log, "GET /jobs 200"));
  for (const char* name : {"as 'default'", "as 'alice'", "as 'bob'", "as 'reader'"}) CHECK(contains(log, name));
  CHECK(contains(log, "GET /jobs 401"));
  CHECK(contains(log, "POST /jobs 403"));
}

TEST_CASE("a bad tokens file or token stops start-up without quoting a token", "[http][auth]") {
  TempDir dir;
  const std::string secret = "start-up-secret-3c59dc048e8850";
  struct Case {
    const char* what;
    EnvMap env;
    std::string expected;
  };
  const std::vector<Case> cases{
      {"group and other may read it",
       {{"DRAY_TOKENS_FILE", writeFile(dir, "open", "ci user " + secret + "\n", 0644)}},
       "has mode 0644"},
      {"group may read it",
       {{"DRAY_TOKENS_FILE", writeFile(dir, "group", "ci user " + secret + "\n", 0640)}},
       "has mode 0640"},
      {"a line without a token",
       {{"DRAY_TOKENS_FILE", writeFile(dir, "short-line", "ok admin " + secret + "\nci user\n")}},
       "line 2: expected 'name role token'"},
      {"a line with four fields",
       {{"DRAY_TOKENS_FILE", writeFile(dir, "long-line", "ci user " + secret + " extra\n")}},
       "line 1: expected 'name role token'"},
      {"a bad role",
       {{"DRAY_TOKENS_FILE", writeFile(dir, "role", "ci superuser " + secret + "\n")}},
       "line 1: the role must be admin, user or read"},
      {"role and token swapped",
       {{"DRAY_TOKENS_FILE", writeFile(dir, "swapped", "ci " + secret + " user\n")}},
       "line 1: the role must be admin, user or read"},
      {"a short token", {{"DRAY_TOKENS_FILE", writeFile(dir, "short-token", "ci user abc\n")}}, "shorter than 16"},
      {"one token, two names",
       {{"DRAY_TOKENS_FILE", writeFile(dir, "twice", "a user " + secret + "\nb read " + secret + "\n")}},
       "line 2: the same token is given to two names"},
      {"no file", {{"DRAY_TOKENS_FILE", dir.path() + "/missing"}}, "cannot be read"},
      {"a short DRAY_TOKEN", {{"DRAY_TOKEN", "tiny"}}, "DRAY_TOKEN: the token is shorter than 16"},
      {"DRAY_TOKEN equal to a file's token",
       {{"DRAY_TOKEN", secret}, {"DRAY_TOKENS_FILE", writeFile(dir, "same", "ci user " + secret + "\n")}},
       "the same token"},
      {"a bad DRAY_METRICS_PUBLIC", {{"DRAY_TOKEN", secret}, {"DRAY_METRICS_PUBLIC", "yes"}}, "DRAY_METRICS_PUBLIC"},
      {"a bad DRAY_LISTEN", {{"DRAY_LISTEN", "localhost:80"}}, "DRAY_LISTEN must be an IP address"},
  };
  for (const auto& c : cases) {
    INFO(c.what);
    EnvMap env = c.env;
    env.try_emplace("DRAY_LISTEN", "127.0.0.1");
    std::string log;
    int code = DrayProcess::runExpectingFailure(env, log);
    INFO(log);
    CHECK(code != 0);
    CHECK(code != -1);  // it ended by itself
    CHECK_THAT(log, Catch::Contains("dray cannot start") && Catch::Contains(c.expected));
    CHECK_FALSE(contains(log, secret));
    CHECK_FALSE(contains(log, "dray listening"));
  }
}

TEST_CASE("DRAY_METRICS_PUBLIC=1 opens /metrics and nothing else", "[http][auth]") {
  TempDir dir;
  EnvMap env = authEnv(dir);
  env["DRAY_METRICS_PUBLIC"] = "1";
  DrayProcess dray(env);
  auto metrics = dray.get("/metrics");
  CHECK(metrics.status == 200);
  CHECK_THAT(metrics.body, Catch::Contains("dray_jobs_running"));
  CHECK(as(dray, kWrongToken, "GET", "/metrics").status == 200);  // public: the token is not even looked at
  CHECK(dray.get("/v1/metrics").status == 200);
  CHECK(dray.get("/healthz").status == 200);
  for (const char* path : {"/jobs", "/plugins", "/jobs/x", "/jobs/x/log", "/nowhere"}) {
    INFO(path);
    checkAnswer(dray.get(path), 401, "");
  }
  checkAnswer(dray.post("/jobs", kQuickJob), 401, "");
  checkAnswer(dray::test::httpRequest(dray.port(), "POST", "/metrics"), 401, "");
}

TEST_CASE("start-up warns about an open port only beyond loopback and without tokens", "[http][auth]") {
  const std::string warning = "no DRAY_TOKEN or DRAY_TOKENS_FILE";
  {
    DrayProcess exposed(EnvMap{{"DRAY_LISTEN", "0.0.0.0"}});
    INFO(exposed.log());
    CHECK(dray::test::waitUntil([&] { return contains(exposed.log(), warning); }, 10s));
    CHECK(contains(exposed.log(), "0.0.0.0:" + std::to_string(exposed.port())));
  }
  // The warning would come right after the listening line: stopping first makes its absence certain.
  for (const EnvMap& env :
       {EnvMap{{"DRAY_LISTEN", "127.0.0.1"}}, EnvMap{{"DRAY_LISTEN", "0.0.0.0"}, {"DRAY_TOKEN", kAdminToken}}}) {
    DrayProcess quiet(env);
    CHECK(quiet.stop() == 0);
    INFO(quiet.log());
    CHECK(contains(quiet.log(), "dray stopped"));
    CHECK_FALSE(contains(quiet.log(), warning));
  }
}

TEST_CASE("GET /events tells a user token about its own jobs only", "[http][e2e][auth]") {
  TempDir dir;
  DrayProcess dray(authEnv(dir));
  INFO(dray.log());
  dray::test::SseClient alice_events(dray.port(), "/events", {{"Authorization", "Bearer " + kAliceToken}});
  REQUIRE(alice_events.status() == 200);
  dray::test::SseClient admin_events(dray.port(), "/events", {{"Authorization", "Bearer " + kAdminToken}});
  const std::string bobs = submitAs(dray, kBobToken, kQuickJob);
  REQUIRE(waitForStatus(dray, bobs, "complete"));
  const std::string alices = submitAs(dray, kAliceToken, kQuickJob);
  REQUIRE(waitForStatus(dray, alices, "complete"));
  REQUIRE(as(dray, kAdminToken, "DELETE", "/jobs/" + bobs).status == 204);
  REQUIRE(as(dray, kAdminToken, "DELETE", "/jobs/" + alices).status == 204);
  // Alice's stream: her job from start to removal, nothing of Bob's.
  std::vector<std::string> seen;
  while (auto event = alice_events.next()) {
    const std::string id = event->json()->getValue<std::string>("id");
    CHECK(id == alices);
    seen.push_back(event->event);
    if (event->event == "removed") break;
  }
  CHECK(seen.front() == "state");
  CHECK(seen.back() == "removed");
  // The admin's stream has both.
  std::set<std::string> admin_ids;
  while (admin_ids.size() < 2) {
    auto event = admin_events.next();
    REQUIRE(event);
    admin_ids.insert(event->json()->getValue<std::string>("id"));
  }
  CHECK(admin_ids == std::set<std::string>{alices, bobs});
}

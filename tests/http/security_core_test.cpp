// Issue #12, core half, end to end: image references and the allow-list, secrets kept out
// of logs, responses and storage, and step containers that get nothing of the host.
#include <algorithm>
#include <sstream>

#include <Poco/JSON/Parser.h>
#include <catch2/catch.hpp>

#include "tests/support/test_support.hpp"

using dray::test::DrayProcess;
using dray::test::RedisServer;
using namespace std::chrono_literals;

namespace {

const std::string kToken = "S3cr3t-Token-9f2c";
const std::string kKeyLines[] = {"KEYLINE-ONE-abc", "KEYLINE-TWO-def", "xy"};

// A step running shell code in dray-test/script.
std::string scriptStep(const std::string& code) {
  std::string escaped;
  for (char c : code) {
    if (c == '"' || c == '\\') escaped += '\\';
    escaped += c;
  }
  return R"({"source":"dray-test/script","environment":[{"variable":"SCRIPT","value":")" + escaped + R"("}]})";
}

// Prints the secrets every way a step might: whole line, mid-word, stderr, multi-line, env.
std::string secretJob() {
  return R"({"name":"secrets","secrets":[{"variable":"TOKEN","value":")" + kToken +
         R"("},{"variable":"KEY","value":")" + kKeyLines[0] + R"(\n)" + kKeyLines[1] + R"(\n)" + kKeyLines[2] +
         R"("}],"steps":[)" +
         scriptStep(
             "echo \"start $TOKEN end\"; echo \"err:$TOKEN\" >&2; printf '%s\\n' \"$KEY\"; "
             "printf 'mid%sdle\\n' \"$TOKEN\"; env | grep TOKEN") +
         "," + scriptStep("cat") + "]}";
}

// True when `text` holds any secret value or piece of one (except the short "xy").
bool leaks(const std::string& text) {
  return text.find(kToken) != std::string::npos || text.find(kKeyLines[0]) != std::string::npos ||
         text.find(kKeyLines[1]) != std::string::npos;
}

bool emptyList(const Poco::JSON::Object::Ptr& object, const std::string& key) {
  return !object->has(key) || object->isNull(key) || object->getArray(key)->size() == 0;
}

}  // namespace

TEST_CASE("an invalid image reference is a 400 naming the step", "[http][e2e][security][image]") {
  DrayProcess dray;
  for (const std::string& bad : std::vector<std::string>{"Bad/Image", "busybox:" + std::string(129, 't'),
                                                         "busybox@sha512:abc", "team//app", "busy box"}) {
    INFO(bad);
    auto response = dray.post("/jobs", R"({"steps":[{"source":"dray-test/script"},{"source":")" + bad + R"("}]})");
    CHECK(response.status == 400);
    CHECK_THAT(response.body, Catch::Contains("steps[1].source"));
  }
  auto nul = dray.post("/jobs", R"({"steps":[{"source":"busy\u0000box"}]})");
  CHECK(nul.status == 400);
  CHECK_THAT(nul.body, Catch::Contains("steps[0].source") && Catch::Contains("control character"));
  CHECK(dray.get("/jobs").body == "[]");  // nothing was stored
}

TEST_CASE("DRAY_ALLOWED_IMAGES allows matching images and refuses others with 403", "[http][e2e][security][image]") {
  DrayProcess dray(dray::test::EnvMap{{"DRAY_ALLOWED_IMAGES", "dray-test/*"}});
  std::string id =
      dray.submit(R"({"steps":[{"source":"dray-test/randword"},{"source":"docker.io/dray-test/upper:latest"}]})");
  INFO(dray.log());
  CHECK(dray.waitForJob(id) == "complete");
  // Another spelling of an allowed image runs too: docker reads it the same way.
  std::string legacy = dray.submit(R"({"steps":[{"source":"index.docker.io/dray-test/randword"}]})");
  CHECK(dray.waitForJob(legacy) == "complete");
  for (const std::string denied : {"busybox", "library/busybox", "docker.io/library/busybox:latest",
                                   "dray-test/sub/image", "ghcr.io/dray-test/script"}) {
    INFO(denied);
    auto response = dray.post("/jobs", R"({"steps":[{"source":"dray-test/script"},{"source":")" + denied + R"("}]})");
    CHECK(response.status == 403);
    CHECK_THAT(response.body, Catch::Contains("steps[1].source") && Catch::Contains(denied));
  }
  auto jobs = Poco::JSON::Parser().parse(dray.get("/jobs").body).extract<Poco::JSON::Array::Ptr>();
  CHECK(jobs->size() == 2);  // refused jobs were not stored
}

TEST_CASE("a malformed DRAY_ALLOWED_IMAGES stops start-up", "[http][e2e][security][image]") {
  std::string log;
  CHECK(DrayProcess::runExpectingFailure({{"DRAY_ALLOWED_IMAGES", "dray-test/*,Bad/Pattern"},
                                          {"DRAY_PLUGIN_PATH", dray::test::pluginDir()},
                                          {"DRAY_STORAGE", "memory"}},
                                         log) != 0);
  CHECK_THAT(log, Catch::Contains("DRAY_ALLOWED_IMAGES") && Catch::Contains("Bad/Pattern"));
}

TEST_CASE("secrets reach the step but never the log, the responses or the process log",
          "[http][e2e][security][secrets]") {
  DrayProcess dray;
  auto created = dray.post("/jobs", secretJob());
  REQUIRE(created.status == 201);
  CHECK_FALSE(leaks(created.body));
  CHECK_THAT(created.body, Catch::Contains(R"({"variable":"TOKEN","value":"***"})"));
  const std::string id = created.json()->getValue<std::string>("id");
  INFO(dray.log());
  REQUIRE(dray.waitForJob(id) == "complete");
  auto lines = dray.logLines(id);
  std::string all;
  for (const auto& line : lines) all += line + "\n";
  INFO(all);
  auto count = [&lines](const std::string& line) { return std::count(lines.begin(), lines.end(), line); };
  CHECK(count("start *** end") == 2);  // printed by step 1, passed on and printed by step 2
  CHECK(count("err:***") == 1);        // stderr is logged, not passed on
  CHECK(count("mid***dle") == 2);
  CHECK(count("TOKEN=***") == 2);
  CHECK(count("***") == 6);  // the three lines of KEY, twice
  for (const auto& line : lines) CHECK_FALSE(leaks(line));
  auto job = dray.get("/jobs/" + id);
  CHECK_FALSE(leaks(job.body));
  CHECK_FALSE(leaks(dray.get("/jobs/" + id + "/log").body));
  CHECK_FALSE(leaks(dray.log()));  // LOG_LEVEL is debug in tests
}

TEST_CASE("with Redis storage no key holds a secret value", "[http][e2e][redis][security][secrets]") {
  RedisServer redis;
  DrayProcess dray(dray::test::EnvMap{{"DRAY_STORAGE", "redis"}, {"REDIS_URL", redis.url()}});
  std::string id = dray.submit(secretJob());
  INFO(dray.log());
  REQUIRE(dray.waitForJob(id) == "complete");
  CHECK(redis.cli("LRANGE jobs 0 -1") == id + "\n");
  std::istringstream keys(redis.cli("KEYS '*'"));
  std::size_t seen = 0;
  for (std::string key; std::getline(keys, key);) {
    if (key.empty()) continue;
    ++seen;
    const std::string type = redis.cli("TYPE '" + key + "'");
    std::string contents;
    if (type == "hash\n")
      contents = redis.cli("HGETALL '" + key + "'");
    else if (type == "list\n")
      contents = redis.cli("LRANGE '" + key + "' 0 -1");
    else if (type == "string\n")
      contents = redis.cli("GET '" + key + "'");
    else if (type == "set\n")
      contents = redis.cli("SMEMBERS '" + key + "'");
    else if (type == "zset\n")
      contents = redis.cli("ZRANGE '" + key + "' 0 -1");
    else if (type == "stream\n")
      contents = redis.cli("XRANGE '" + key + "' - +");
    else
      FAIL("unexpected type " << type << " of " << key);
    INFO(key << " (" << type << "): " << contents);
    CHECK_FALSE(contents.empty());
    CHECK_FALSE(leaks(contents));
    CHECK_FALSE(leaks(key));
  }
  CHECK(seen >= 3);  // jobs, jobs:<id>, jobs:<id>:log at least
  CHECK_THAT(redis.cli("LRANGE jobs:" + id + ":log 0 -1"), Catch::Contains("start *** end"));
}

TEST_CASE("a step container gets no binds, devices, privileges or host namespaces", "[http][e2e][security][docker]") {
  DrayProcess dray;
  std::string id = dray.submit(R"({"steps":[)" + scriptStep("sleep 60") + "]}");
  INFO(dray.log());
  std::vector<std::string> running;
  REQUIRE(dray::test::waitUntil([&] { return !(running = dray::test::containersOfJob(id, "running")).empty(); }, 30s));
  const std::string container = running.front();
  auto inspect = [&container](const std::string& format) {
    int status = 0;
    std::string out = dray::test::shell("docker inspect --format '" + format + "' " + container, &status);
    REQUIRE(status == 0);
    return out;
  };
  auto host = Poco::JSON::Parser().parse(inspect("{{json .HostConfig}}")).extract<Poco::JSON::Object::Ptr>();
  INFO(inspect("{{json .HostConfig}}"));
  CHECK_FALSE(host->getValue<bool>("Privileged"));
  for (const char* key : {"Binds", "Devices", "CapAdd", "VolumesFrom", "Mounts", "DeviceCgroupRules"}) {
    INFO(key);
    CHECK(emptyList(host, key));
  }
  for (const char* key : {"PidMode", "IpcMode", "NetworkMode", "UTSMode", "UsernsMode"}) {
    INFO(key);
    CHECK(host->optValue<std::string>(key, "") != "host");
  }
  CHECK(host->getValue<std::string>("NetworkMode").rfind("container:", 0) == std::string::npos);
  CHECK_THAT(inspect("{{json .HostConfig.SecurityOpt}}"), Catch::Contains("no-new-privileges"));
  CHECK(inspect("{{json .Mounts}}") == "[]\n");
  CHECK(inspect("{{json .}}").find("docker.sock") == std::string::npos);
  CHECK(dray.del("/jobs/" + id).status / 100 == 2);
  CHECK(dray::test::waitUntil([&] { return dray::test::containersOfJob(id).empty(); }, 30s));
}

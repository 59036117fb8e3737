#include <sstream>

#include <Poco/Base64Decoder.h>
#include <Poco/Base64Encoder.h>
#include <Poco/JSON/Parser.h>
#include <catch2/catch.hpp>

#include "dray/sdk/errors.hpp"
#include "plugins/runtime/docker/docker_endpoint.hpp"
#include "plugins/runtime/docker/docker_runtime.hpp"
#include "plugins/runtime/docker/pull_progress.hpp"
#include "plugins/runtime/docker/pull_reference.hpp"
#include "plugins/runtime/docker/registry_auth.hpp"
#include "tests/support/test_support.hpp"

using namespace dray::plugins::runtime::docker;
using dray::test::base64;

TEST_CASE("image references split into repository, tag and digest", "[plugins][docker]") {
  auto plain = parseImageReference("busybox");
  CHECK(plain.repository == "busybox");
  CHECK(plain.tag == "latest");
  auto tagged = parseImageReference("centurylink/randword:1.2");
  CHECK(tagged.repository == "centurylink/randword");
  CHECK(tagged.tag == "1.2");
  auto port = parseImageReference("registry:5000/team/app");
  CHECK(port.repository == "registry:5000/team/app");
  CHECK(port.tag == "latest");
  auto digest = parseImageReference("app@sha256:abc");
  CHECK(digest.repository == "app");
  CHECK(digest.tag.empty());
  CHECK(digest.digest == "sha256:abc");
}

TEST_CASE("DOCKER_HOST forms", "[plugins][docker]") {
  CHECK(parseDockerHost("unix:///var/run/docker.sock").unix_path == "/var/run/docker.sock");
  CHECK(parseDockerHost("/run/docker.sock").unix_path == "/run/docker.sock");
  auto tcp = parseDockerHost("tcp://127.0.0.1:2376");
  CHECK(tcp.host == "127.0.0.1");
  CHECK(tcp.port == 2376);
  CHECK(parseDockerHost("tcp://localhost").port == 2375);
  CHECK_THROWS_AS(parseDockerHost("ftp://x"), dray::sdk::ConfigError);
  CHECK_THROWS_AS(parseDockerHost("docker.sock"), dray::sdk::ConfigError);
}

TEST_CASE("create body attaches stdin once and carries env and labels", "[plugins][docker]") {
  dray::sdk::ContainerSpec spec;
  spec.image = "x/y:1";
  spec.env = {"A=1", "B=two words"};
  spec.labels = {{"dray.job", "J"}, {"dray.step", "0"}};
  auto body = Poco::JSON::Parser().parse(createBody(spec)).extract<Poco::JSON::Object::Ptr>();
  CHECK(body->getValue<std::string>("Image") == "x/y:1");
  CHECK(body->getArray("Env")->getElement<std::string>(1) == "B=two words");
  CHECK(body->getObject("Labels")->getValue<std::string>("dray.job") == "J");
  CHECK(body->getValue<bool>("OpenStdin"));
  CHECK(body->getValue<bool>("StdinOnce"));
  CHECK(body->getValue<bool>("AttachStdin"));
  CHECK_FALSE(body->getValue<bool>("Tty"));
}

TEST_CASE("create body gives the step nothing of the host", "[plugins][docker][security]") {
  dray::sdk::ContainerSpec spec;
  spec.image = "x/y:1";
  auto body = Poco::JSON::Parser().parse(createBody(spec)).extract<Poco::JSON::Object::Ptr>();
  auto host = body->getObject("HostConfig");
  REQUIRE(host);
  CHECK_FALSE(host->getValue<bool>("Privileged"));
  for (const char* empty : {"Binds", "Mounts", "Devices", "CapAdd", "VolumesFrom"}) {
    INFO(empty);
    CHECK(host->getArray(empty)->size() == 0);
  }
  CHECK(host->getArray("SecurityOpt")->getElement<std::string>(0) == "no-new-privileges");
  CHECK(host->getValue<std::string>("NetworkMode") == "default");
  CHECK(host->getValue<std::string>("PidMode").empty());
  CHECK(host->getValue<std::string>("IpcMode") == "private");
}

TEST_CASE("engine error bodies yield their message", "[plugins][docker]") {
  CHECK(engineMessage(R"({"message":"No such image: x:latest"})") == "No such image: x:latest");
  CHECK(engineMessage("plain text") == "plain text");
}

TEST_CASE("create body carries the step's resources, each only when set", "[plugins][docker]") {
  dray::sdk::ContainerSpec spec;
  spec.image = "x/y:1";
  auto unset = Poco::JSON::Parser().parse(createBody(spec)).extract<Poco::JSON::Object::Ptr>()->getObject("HostConfig");
  for (const char* absent : {"CpuShares", "Memory", "MemorySwap", "NanoCpus", "PidsLimit"}) {
    INFO(absent);
    CHECK_FALSE(unset->has(absent));
  }
  CHECK(unset->getValue<std::string>("NetworkMode") == "default");

  spec.resources = {"none", 512, 64LL << 20, 500000000, 50};
  auto host = Poco::JSON::Parser().parse(createBody(spec)).extract<Poco::JSON::Object::Ptr>()->getObject("HostConfig");
  CHECK(host->getValue<std::string>("NetworkMode") == "none");
  CHECK(host->getValue<std::int64_t>("CpuShares") == 512);
  CHECK(host->getValue<std::int64_t>("Memory") == 64LL << 20);
  CHECK(host->getValue<std::int64_t>("MemorySwap") == 64LL << 20);  // no swap on top
  CHECK(host->getValue<std::int64_t>("NanoCpus") == 500000000);
  CHECK(host->getValue<std::int64_t>("PidsLimit") == 50);
  CHECK(host->getValue<bool>("Privileged") == false);  // resources grant nothing else
}

namespace {

// The JSON an X-Registry-Auth value decodes to, the way the engine reads it (URL alphabet).
Poco::JSON::Object::Ptr decodeHeader(const std::string& header) {
  std::istringstream in(header);
  Poco::Base64Decoder decoder(in, Poco::BASE64_URL_ENCODING);
  std::string json((std::istreambuf_iterator<char>(decoder)), std::istreambuf_iterator<char>());
  return Poco::JSON::Parser().parse(json).extract<Poco::JSON::Object::Ptr>();
}

std::string authsConfig(const std::string& key, const std::string& user_password) {
  return R"({"auths":{")" + key + R"(":{"auth":")" + base64(user_password) + R"("}}})";
}

}  // namespace

TEST_CASE("registry keys and image references normalise as the docker CLI does", "[plugins][docker][registry]") {
  const std::pair<const char*, const char*> keys[] = {
      {"https://index.docker.io/v1/", kDockerHubRegistry},
      {"index.docker.io", kDockerHubRegistry},
      {"docker.io", kDockerHubRegistry},
      {"https://registry-1.docker.io/v2/", kDockerHubRegistry},
      {"127.0.0.1:5000", "127.0.0.1:5000"},
      {"http://127.0.0.1:5000", "127.0.0.1:5000"},
      {"https://127.0.0.1:5000/v2/", "127.0.0.1:5000"},
      {"HTTPS://Registry.Example.COM/v1/", "registry.example.com"},
      {"ghcr.io", "ghcr.io"},
      {"localhost:5000/", "localhost:5000"},
  };
  for (const auto& [key, normal] : keys) {
    INFO(key);
    CHECK(normalizeRegistry(key) == normal);
  }
  const std::pair<const char*, const char*> images[] = {
      {"busybox", kDockerHubRegistry},
      {"team/app:1", kDockerHubRegistry},
      {"docker.io/library/busybox:latest", kDockerHubRegistry},
      {"index.docker.io/team/app", kDockerHubRegistry},
      {"127.0.0.1:5000/dray-pull-test:x", "127.0.0.1:5000"},
      {"localhost/app", "localhost"},
      {"localhost:5000/a/b@sha256:00", "localhost:5000"},
      {"ghcr.io/owner/image:tag", "ghcr.io"},
      {"registry.example.com/app", "registry.example.com"},
  };
  for (const auto& [image, registry] : images) {
    INFO(image);
    CHECK(registryOfImage(image) == registry);
  }
}

TEST_CASE("every spelling of a registry key finds the image's credentials", "[plugins][docker][registry]") {
  for (const char* key : {"127.0.0.1:5000", "http://127.0.0.1:5000", "https://127.0.0.1:5000/v2/"}) {
    INFO(key);
    auto auth = RegistryAuth::parse(authsConfig(key, "alice:pa:ss\"word"), "config.json");
    REQUIRE(auth.size() == 1);
    const RegistryCredentials* found = auth.find("127.0.0.1:5000/team/app:1");
    REQUIRE(found);
    CHECK(found->username == "alice");
    CHECK(found->password == "pa:ss\"word");  // split at the first colon only
    CHECK(found->server_address == "127.0.0.1:5000");
    CHECK(auth.find("127.0.0.1:5001/team/app") == nullptr);
    CHECK(auth.find("team/app") == nullptr);
  }
  auto hub = RegistryAuth::parse(authsConfig("https://index.docker.io/v1/", "bob:pw"), "config.json");
  REQUIRE(hub.find("busybox"));
  CHECK(hub.find("docker.io/team/app:1")->server_address == kDockerHubRegistry);
  CHECK(hub.find("ghcr.io/team/app") == nullptr);
}

TEST_CASE("two spellings of one registry: the normal one wins", "[plugins][docker][registry]") {
  const std::string json = R"({"auths":{"http://127.0.0.1:5000":{"auth":")" + base64("old:one") +
                           R"("},"127.0.0.1:5000":{"auth":")" + base64("new:two") +
                           R"("},"https://127.0.0.1:5000/v2/":{"auth":")" + base64("other:three") + R"("}}})";
  auto auth = RegistryAuth::parse(json, "config.json");
  REQUIRE(auth.find("127.0.0.1:5000/x"));
  CHECK(auth.find("127.0.0.1:5000/x")->username == "new");
}

TEST_CASE("X-Registry-Auth is base64url JSON of user, password and server", "[plugins][docker][registry]") {
  // Bytes that base64 turns into '+' and '/' in the standard alphabet: the header must not hold them.
  RegistryCredentials credentials{"127.0.0.1:5000", "al?ce", "p>>w?~\"\\ ü"};
  const std::string header = registryAuthHeader(credentials);
  CHECK(header.find_first_of("+/\n\r ") == std::string::npos);
  CHECK(header.size() % 4 == 0);  // padded, as the engine's decoder wants
  auto json = decodeHeader(header);
  CHECK(json->getValue<std::string>("username") == "al?ce");
  CHECK(json->getValue<std::string>("password") == "p>>w?~\"\\ ü");
  CHECK(json->getValue<std::string>("serveraddress") == "127.0.0.1:5000");
  // Long values stay on one line (Poco's encoder breaks lines at 72 columns by default).
  RegistryCredentials long_one{"registry.example.com", std::string(100, 'u'), std::string(200, 'p')};
  CHECK(registryAuthHeader(long_one).find('\n') == std::string::npos);
  CHECK(decodeHeader(registryAuthHeader(long_one))->getValue<std::string>("password") == std::string(200, 'p'));
}

TEST_CASE("credential helpers are noted and not used, and empty entries are skipped", "[plugins][docker][registry]") {
  auto store = RegistryAuth::parse(R"({"auths":{"https://index.docker.io/v1/":{}},"credsStore":"desktop"})", "c.json");
  CHECK(store.usesHelpers());
  CHECK(store.size() == 0);
  CHECK(store.find("busybox") == nullptr);
  auto helpers = RegistryAuth::parse(
      R"({"credHelpers":{"ghcr.io":"gh"},"auths":{"127.0.0.1:5000":{"auth":")" + base64("u:p") + R"("}}})", "c.json");
  CHECK(helpers.usesHelpers());
  CHECK(helpers.size() == 1);
  CHECK(helpers.find("ghcr.io/a/b") == nullptr);
  auto plain = RegistryAuth::parse(authsConfig("127.0.0.1:5000", "u:p"), "c.json");
  CHECK_FALSE(plain.usesHelpers());
  auto legacy = RegistryAuth::parse(R"({"auths":{"r.example":{"username":"u","password":"p"}}})", "c.json");
  REQUIRE(legacy.find("r.example/app"));
  CHECK(legacy.find("r.example/app")->password == "p");
  CHECK(RegistryAuth::parse("{}", "c.json").size() == 0);
}

TEST_CASE("a broken Docker config file is refused by name, never by content", "[plugins][docker][registry]") {
  const std::string secret = base64("alice:hunter2");
  const std::string broken[] = {
      "{\"auths\":{\"r.example\":{\"auth\":\"" + secret + "\"}",                      // truncated JSON
      "[\"" + secret + "\"]",                                                         // not an object
      R"({"auths":[")" + secret + R"("]})",                                           // auths not an object
      R"({"auths":{"r.example":")" + secret + R"("}})",                               // entry not an object
      R"({"auths":{"r.example":{"auth":")" + base64("no-colon-hunter2") + R"("}}})",  // no user:password
      R"({"auths":{"r.example":{"auth":"%%%hunter2%%%"}}})",                          // not base64
      R"({"auths":{"r.example":{"auth":{"x":"hunter2"}}}})",                          // wrong type
  };
  for (const auto& text : broken) {
    INFO(text);
    try {
      RegistryAuth::parse(text, "/etc/dray/config.json");
      FAIL("accepted");
    } catch (const dray::sdk::ConfigError& e) {
      const std::string message = e.what();
      CHECK_THAT(message, Catch::Contains("/etc/dray/config.json"));
      CHECK_THAT(message, !Catch::Contains("hunter2"));
      CHECK_THAT(message, !Catch::Contains(secret));
    }
  }
  CHECK_THROWS_WITH(RegistryAuth::load("/nonexistent/dray-config.json"),
                    Catch::Contains("/nonexistent/dray-config.json") && Catch::Contains("No such file"));
  CHECK_THROWS_WITH(RegistryAuth::load("/tmp"), Catch::Contains("/tmp"));
}

TEST_CASE("pull progress becomes a few log lines, not one per layer event", "[plugins][docker][pull]") {
  using Clock = PullProgress::Clock;
  const Clock::time_point t0 = Clock::now();
  PullProgress progress("r.example/app:1", t0, std::chrono::seconds(5));
  std::vector<std::string> lines;
  auto feed = [&](const std::string& event, int at_ms) {
    auto line = progress.feed(event, t0 + std::chrono::milliseconds(at_ms));
    if (!line.empty()) lines.push_back(line);
  };
  feed(R"({"status":"Pulling from app","id":"1"})", 100);
  feed(R"({"status":"Already exists","progressDetail":{},"id":"aaa"})", 200);
  feed(R"({"status":"Pulling fs layer","progressDetail":{},"id":"bbb"})", 200);
  feed(R"({"status":"Pulling fs layer","progressDetail":{},"id":"ccc"})", 200);
  feed(R"({"status":"Downloading","progressDetail":{"current":0,"total":1000000},"id":"ccc"})", 300);
  for (int i = 1; i <= 100; ++i) {  // 100 events over 10 s
    feed(R"({"status":"Downloading","progressDetail":{"current":)" + std::to_string(i * 20000) +
             R"(,"total":2000000},"id":"bbb"})",
         0.2 + i * 100);
  }
  feed(R"({"status":"Downloading","progressDetail":{"current":1000000,"total":1000000},"id":"ccc"})", 10300);
  feed(R"({"status":"Download complete","progressDetail":{},"id":"bbb"})", 10400);
  feed(R"({"status":"Pull complete","progressDetail":{},"id":"bbb"})", 10500);
  feed(R"({"status":"Pull complete","progressDetail":{},"id":"ccc"})", 10600);
  feed(R"({"status":"Digest: sha256:00"})", 10700);
  feed(R"({"status":"Status: Downloaded newer image for r.example/app:1"})", 10700);
  REQUIRE(lines.size() == 2);  // at 5 s and 10 s
  CHECK(lines[0] == "pulling image r.example/app:1: 1 of 3 layers done, 1.0 of 3.0 MB downloaded");
  CHECK(lines[1] == "pulling image r.example/app:1: 1 of 3 layers done, 2.0 of 3.0 MB downloaded");
  CHECK(progress.error().empty());
  CHECK(progress.summary(t0 + std::chrono::milliseconds(10800)) ==
        "pulled image r.example/app:1 in 10.8 s: 2 layers downloaded (3.0 MB), 1 already present");

  PullProgress failed("r.example/app:1", t0, std::chrono::seconds(5));
  CHECK(failed.feed(R"({"errorDetail":{"message":"unauthorized"},"error":"unauthorized: authentication required"})", t0)
            .empty());
  CHECK(failed.error() == "unauthorized: authentication required");
  PullProgress garbled("app", t0, std::chrono::seconds(5));
  garbled.feed(R"({"error": cut short)", t0);  // not JSON, but a failure all the same
  CHECK(garbled.error() == R"({"error": cut short)");
  PullProgress nothing("app", t0, std::chrono::seconds(5));
  nothing.feed("not json", t0);
  CHECK(nothing.summary(t0) == "pulled image app in 0.0 s: nothing new to download");
}

#include <Poco/JSON/Parser.h>
#include <catch2/catch.hpp>

#include "dray/sdk/errors.hpp"
#include "plugins/runtime/docker/docker_endpoint.hpp"
#include "plugins/runtime/docker/docker_runtime.hpp"
#include "plugins/runtime/docker/pull_reference.hpp"

using namespace dray::plugins::runtime::docker;

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

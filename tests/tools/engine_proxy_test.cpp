// The fault-injecting engine proxy against the real engine (CTest label "docker"): it must be
// transparent when told nothing, or the fault tests of issue #13 would test the proxy.
#include "tests/tools/engine_proxy.hpp"

#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <regex>
#include <sstream>

#include <catch2/catch.hpp>

#include "tests/support/test_support.hpp"

namespace {

using namespace std::chrono_literals;
using dray::test::EngineProxy;
using dray::test::TempDir;
using dray::test::waitUntil;

std::string engineSocket() {
  const char* host = std::getenv("DOCKER_HOST");
  if (host && std::string(host).rfind("unix://", 0) == 0) return std::string(host).substr(7);
  return "/var/run/docker.sock";
}

// One raw connection to a UNIX socket: the tests write HTTP by hand so they see exactly the
// bytes the proxy passes, including those after an attach upgrade.
class RawClient {
 public:
  explicit RawClient(const std::string& path) : fd_(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) {
    sockaddr_un address{};
    address.sun_family = AF_UNIX;
    std::strncpy(address.sun_path, path.c_str(), sizeof(address.sun_path) - 1);
    REQUIRE(::connect(fd_, reinterpret_cast<sockaddr*>(&address), sizeof address) == 0);
  }
  ~RawClient() { ::close(fd_); }
  RawClient(const RawClient&) = delete;
  RawClient& operator=(const RawClient&) = delete;

  void send(const std::string& bytes) {
    REQUIRE(::send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL) == static_cast<ssize_t>(bytes.size()));
  }
  // Reads until `needle` has arrived, EOF, or the deadline; true when it has arrived.
  bool readUntil(const std::string& needle, std::chrono::milliseconds timeout = 15s) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (received_.find(needle) == std::string::npos && !eof_) {
      const auto left =
          std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
      pollfd fd{fd_, POLLIN, 0};
      if (::poll(&fd, 1, static_cast<int>(std::max<std::int64_t>(left.count(), 0))) <= 0) break;
      char buffer[4096];
      const ssize_t n = ::recv(fd_, buffer, sizeof buffer, 0);
      if (n <= 0) eof_ = true;
      if (n > 0) received_.append(buffer, static_cast<std::size_t>(n));
    }
    return received_.find(needle) != std::string::npos;
  }
  bool readToEof(std::chrono::milliseconds timeout = 15s) {
    readUntil(std::string(1, '\0') + "never", timeout);
    return eof_;
  }
  const std::string& received() const { return received_; }

 private:
  int fd_;
  std::string received_;
  bool eof_ = false;
};

std::string request(const std::string& method, const std::string& path, const std::string& body = "",
                    const std::string& extra_headers = "") {
  std::string head = method + " /v1.41" + path + " HTTP/1.1\r\nHost: docker\r\n" + extra_headers;
  if (!body.empty()) head += "Content-Type: application/json\r\n";
  if (!body.empty() || method == "POST") head += "Content-Length: " + std::to_string(body.size()) + "\r\n";
  return head + "\r\n" + body;
}

// One request on its own connection, answered in full (the engine closes after it).
std::string call(const std::string& socket, const std::string& method, const std::string& path,
                 const std::string& body = "") {
  RawClient client(socket);
  client.send(request(method, path, body, "Connection: close\r\n"));
  REQUIRE(client.readToEof());
  return client.received();
}

const std::string kAttach = "/attach?stream=1&stdin=1&stdout=1&stderr=1";
const std::string kUpgrade = "Connection: Upgrade\r\nUpgrade: tcp\r\n";

// A stdin-reading busybox container made directly on the engine, force-removed at scope exit.
struct Container {
  explicit Container(const std::string& script) {
    const std::string body = R"({"Image":"dray-test/busybox","Cmd":["sh","-c",")" + script +
                             R"("],"OpenStdin":true,"AttachStdin":true,"AttachStdout":true,"AttachStderr":true,)"
                             R"("Labels":{"dray.test":"engine-proxy"}})";
    const std::string reply = call(engineSocket(), "POST", "/containers/create", body);
    std::smatch match;
    REQUIRE(std::regex_search(reply, match, std::regex(R"re("Id":"([0-9a-f]+)")re")));
    id = match[1];
  }
  ~Container() { remove(id); }
  // Through the CLI, which cannot fail a REQUIRE inside a destructor.
  static void remove(const std::string& id) { dray::test::shell("docker rm -f " + id + " >/dev/null 2>&1"); }
  bool running() const {
    return call(engineSocket(), "GET", "/containers/" + id + "/json").find(R"("Running":true)") != std::string::npos;
  }
  std::string id;
};

struct Fixture {
  TempDir dir;
  EngineProxy proxy{engineSocket(), dir.path() + "/engine.sock"};
  std::string socket = dir.path() + "/engine.sock";
  Fixture() { proxy.start(); }
};

// A negative check needs a window: nothing may happen within it. It bounds the test, and a
// broken proxy shows within it on any machine that can run the engine at all.
bool staysFalse(const std::function<bool()>& condition) { return !waitUntil(condition, 500ms); }

}  // namespace

TEST_CASE("requests pass through unchanged", "[tools][engine_proxy]") {
  Fixture f;
  CHECK(f.proxy.address() == "unix://" + f.socket);
  const std::string ping = call(f.socket, "GET", "/_ping");
  CHECK(ping.rfind("HTTP/1.1 200 OK", 0) == 0);
  CHECK(ping.find("\r\n\r\nOK") != std::string::npos);
  const std::string list = call(f.socket, "GET", "/containers/json?all=1");
  CHECK(list.rfind("HTTP/1.1 200 OK", 0) == 0);
  CHECK(list.find("[") != std::string::npos);

  SECTION("bodies are framed: a request inside a body or a chunk is not taken for one") {
    const auto rule = f.proxy.stall("GET", "^/_ping$");
    RawClient client(f.socket);
    const std::string fake = "GET /v1.41/_ping HTTP/1.1\r\nHost: docker\r\n\r\n";
    std::ostringstream chunk_size;
    chunk_size << std::hex << fake.size();
    client.send(request("POST", "/containers/json-nope", fake));
    client.send("POST /v1.41/containers/json-nope HTTP/1.1\r\nHost: docker\r\nTransfer-Encoding: chunked\r\n\r\n" +
                chunk_size.str() + "\r\n" + fake + "\r\n0\r\n\r\n");
    client.send(request("GET", "/_ping"));
    // Only the real ping, the third request, may count: held, so both 404s came before it.
    REQUIRE(waitUntil([&] { return f.proxy.stalledCount() == 1; }, 10s));
    CHECK(f.proxy.matched(rule) == 1);
    CHECK(client.readUntil("404 Not Found"));
    CHECK(client.received().find("\r\n\r\nOK") == std::string::npos);
    f.proxy.releaseAll();
    CHECK(client.readUntil("\r\n\r\nOK"));
    CHECK(f.proxy.stalledCount() == 0);
  }
}

TEST_CASE("a container runs through the proxy: create, attach, start, wait, remove", "[tools][engine_proxy]") {
  Fixture f;
  const std::string body =
      R"({"Image":"dray-test/busybox","Cmd":["sh","-c","read line; echo got:$line"],"OpenStdin":true,)"
      R"("StdinOnce":true,"AttachStdin":true,"AttachStdout":true,"AttachStderr":true,"Labels":{"dray.test":"engine-proxy"}})";
  const std::string created = call(f.socket, "POST", "/containers/create", body);
  std::smatch match;
  REQUIRE(std::regex_search(created, match, std::regex(R"re("Id":"([0-9a-f]+)")re")));
  const std::string id = match[1];
  struct Cleanup {
    const std::string& id;
    ~Cleanup() { Container::remove(id); }
  } cleanup{id};

  RawClient attach(f.socket);
  attach.send(request("POST", "/containers/" + id + kAttach, "", kUpgrade));
  REQUIRE(attach.readUntil("\r\n\r\n"));
  CHECK(attach.received().rfind("HTTP/1.1 101", 0) == 0);
  CHECK(f.proxy.upgradedCount() == 1);

  CHECK(call(f.socket, "POST", "/containers/" + id + "/start").rfind("HTTP/1.1 204", 0) == 0);
  attach.send("hello\n");
  CHECK(attach.readUntil("got:hello"));
  CHECK(attach.readToEof());  // the stream ends with the container

  CHECK(call(f.socket, "POST", "/containers/" + id + "/wait").find(R"("StatusCode":0)") != std::string::npos);
  CHECK(call(f.socket, "DELETE", "/containers/" + id).rfind("HTTP/1.1 204", 0) == 0);
  CHECK(call(engineSocket(), "GET", "/containers/" + id + "/json").rfind("HTTP/1.1 404", 0) == 0);
}

TEST_CASE("a stalled kill is held, unanswered, until released", "[tools][engine_proxy]") {
  Fixture f;
  Container container("sleep 60");
  REQUIRE(call(engineSocket(), "POST", "/containers/" + container.id + "/start").rfind("HTTP/1.1 204", 0) == 0);
  const auto rule = f.proxy.stall("POST", "^/containers/[0-9a-f]+/kill$");

  RawClient client(f.socket);
  client.send(request("POST", "/containers/" + container.id + "/kill?signal=KILL"));
  REQUIRE(waitUntil([&] { return f.proxy.stalledCount() == 1; }, 10s));
  CHECK(f.proxy.matched(rule) == 1);
  CHECK(call(f.socket, "GET", "/_ping").find("\r\n\r\nOK") != std::string::npos);  // others pass
  CHECK(container.running());
  CHECK_FALSE(client.readUntil("HTTP", 0ms));

  f.proxy.releaseAll();
  CHECK(client.readUntil("\r\n\r\n"));
  CHECK(client.received().rfind("HTTP/1.1 204", 0) == 0);
  CHECK(waitUntil([&] { return !container.running(); }, 10s));
  CHECK(f.proxy.stalledCount() == 0);

  // Released rules are gone: the same request now passes at once.
  Container other("sleep 60");
  REQUIRE(call(engineSocket(), "POST", "/containers/" + other.id + "/start").rfind("HTTP/1.1 204", 0) == 0);
  CHECK(call(f.socket, "POST", "/containers/" + other.id + "/kill").rfind("HTTP/1.1 204", 0) == 0);
  CHECK(f.proxy.matched(rule) == 1);
}

TEST_CASE("frozen attach streams move no bytes, stay open, and flow again on release", "[tools][engine_proxy]") {
  Fixture f;
  Container container("while read l; do echo x$l; done");
  RawClient attach(f.socket);
  attach.send(request("POST", "/containers/" + container.id + kAttach, "", kUpgrade));
  REQUIRE(attach.readUntil("\r\n\r\n"));
  REQUIRE(call(f.socket, "POST", "/containers/" + container.id + "/start").rfind("HTTP/1.1 204", 0) == 0);
  attach.send("a\n");
  REQUIRE(attach.readUntil("xa"));

  f.proxy.freezeStreams();
  attach.send("b\n");
  const auto logs = [&] { return call(engineSocket(), "GET", "/containers/" + container.id + "/logs?stdout=1"); };
  CHECK(staysFalse([&] { return attach.readUntil("xb", 10ms) || logs().find("xb") != std::string::npos; }));

  // A stream hijacked while frozen still gets its upgrade answer, then nothing.
  RawClient late(f.socket);
  late.send(request("POST", "/containers/" + container.id + kAttach, "", kUpgrade));
  REQUIRE(late.readUntil("\r\n\r\n"));
  CHECK(late.received().rfind("HTTP/1.1 101", 0) == 0);
  CHECK(f.proxy.upgradedCount() == 2);
  CHECK(waitUntil([&] { return f.proxy.connectionCount() == 2; }, 5s));  // frozen, not closed

  f.proxy.releaseAll();
  CHECK(attach.readUntil("xb"));
  attach.send("c\n");
  CHECK(attach.readUntil("xc"));
  CHECK(late.readUntil("xc"));
}

TEST_CASE("stop() returns promptly with stalled requests pending", "[tools][engine_proxy]") {
  Fixture f;
  f.proxy.stall("*", ".*");
  std::vector<std::unique_ptr<RawClient>> clients;
  for (int i = 0; i < 3; ++i) {
    clients.push_back(std::make_unique<RawClient>(f.socket));
    clients.back()->send(request("GET", "/_ping"));
  }
  REQUIRE(waitUntil([&] { return f.proxy.stalledCount() == 3; }, 10s));

  const auto started = std::chrono::steady_clock::now();
  f.proxy.stop();
  const std::chrono::duration<double, std::milli> took = std::chrono::steady_clock::now() - started;
  std::printf("engine proxy: stop with 3 requests stalled took %.0f ms\n", took.count());
  if (!dray::test::sanitized()) CHECK(took < 2s);  // sanitizers make everything slower
  for (auto& client : clients) {
    CHECK(client->readToEof(5s));
    CHECK(client->received().empty());  // dropped, never answered
  }
  CHECK(f.proxy.stalledCount() == 0);
  CHECK(f.proxy.connectionCount() == 0);
  CHECK_FALSE(std::filesystem::exists(f.socket));
  f.proxy.stop();  // idempotent
}

// Pulls from a private registry with DOCKER_CONFIG_FILE credentials (issue 15): Debian's
// docker-registry with htpasswd auth on loopback, the real dray binary and the real engine
// (CTest label "e2e"). The engine treats 127.0.0.0/8 registries as insecure, so plain HTTP works.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <fstream>
#include <mutex>
#include <random>
#include <sstream>
#include <thread>
#include <vector>

#include <Poco/Base64Encoder.h>
#include <Poco/Process.h>

#include <catch2/catch.hpp>

#include "tests/http/script_step.hpp"
#include "tests/support/test_support.hpp"

using dray::test::base64;
using dray::test::DrayProcess;
using dray::test::EnvMap;
using dray::test::shell;
using dray::test::TempDir;
using dray::test::waitUntil;
using namespace std::chrono_literals;

namespace {

const std::string kUser = "dray-puller";
const std::string kPassword = "Pw-7f3c:never-logged";  // a colon: only the first one splits

std::string randomHex(std::size_t length) {
  static std::mt19937_64 random{std::random_device{}()};
  static const char* digits = "0123456789abcdef";
  std::string text;
  for (std::size_t i = 0; i < length; ++i) text += digits[random() % 16];
  return text;
}

void writeFile(const std::string& path, const std::string& text) {
  std::ofstream out(path, std::ios::binary);
  out << text;
  REQUIRE(out.good());
}

// A Docker CLI config.json holding `user:password` for `key`, in `dir`; returns its path.
std::string writeDockerConfig(const std::string& dir, const std::string& key, const std::string& user,
                              const std::string& password) {
  const std::string path = dir + "/config.json";
  writeFile(path, R"({"auths":{")" + key + R"(":{"auth":")" + base64(user + ":" + password) + R"("}}})");
  return path;
}

// docker-registry (distribution 2.8) on a free loopback port, storing in its own temp dir and
// asking every client for kUser/kPassword (htpasswd, bcrypt). Stopped with the object.
class Registry {
 public:
  Registry() {
    int status = 0;
    const std::string users = shell("htpasswd -Bbn '" + kUser + "' '" + kPassword + "'", &status);
    REQUIRE(status == 0);
    writeFile(dir_.path() + "/htpasswd", users);
    // The port is probed, then bound by the registry: another process may take it between,
    // so a registry that does not come up is tried again on a new port.
    for (int attempt = 0; attempt < 3 && !handle_; ++attempt) start(dray::test::freePort());
    REQUIRE(handle_);
  }
  ~Registry() { stop(); }
  Registry(const Registry&) = delete;
  Registry& operator=(const Registry&) = delete;

  std::uint16_t port() const { return port_; }
  std::string host() const { return "127.0.0.1:" + std::to_string(port_); }
  std::string log() const { return shell("cat " + dir_.path() + "/registry.log"); }

 private:
  void start(std::uint16_t port) {
    const std::string config = dir_.path() + "/config.yml";
    writeFile(config,
              "version: 0.1\n"
              "log:\n  level: error\n  accesslog:\n    disabled: true\n"
              "storage:\n  filesystem:\n    rootdirectory: " +
                  dir_.path() + "/data\n" + "http:\n  addr: 127.0.0.1:" + std::to_string(port) +
                  "\n"
                  "auth:\n  htpasswd:\n    realm: dray-test\n    path: " +
                  dir_.path() + "/htpasswd\n");
    auto handle = std::make_unique<Poco::ProcessHandle>(Poco::Process::launch(
        "/bin/sh", {"-c", "exec docker-registry serve \"$0\" >>" + dir_.path() + "/registry.log 2>&1", config}));
    const bool up = waitUntil(
        [&] {
          if (handle->tryWait() != -1) return true;  // exited: the port was taken
          try {
            return dray::test::httpRequest(port, "GET", "/v2/").status == 401;  // up, and asks for credentials
          } catch (const std::exception&) {
            return false;
          }
        },
        20s);
    if (up && Poco::Process::isRunning(*handle)) {
      handle_ = std::move(handle);
      port_ = port;
    } else if (Poco::Process::isRunning(*handle)) {
      Poco::Process::kill(*handle);
      handle->wait();
    }
  }
  void stop() {
    if (!handle_) return;
    Poco::Process::kill(*handle_);
    handle_->wait();
    handle_.reset();
  }

  TempDir dir_;
  std::uint16_t port_ = 0;
  std::unique_ptr<Poco::ProcessHandle> handle_;
};

// Builds a one-layer image on top of dray-test/script holding `blob_bytes` random bytes at
// /blob, pushes it to `registry` as dray-pull-test:<random tag> and removes it from the
// engine, so a pull must fetch that layer again. Returns "dray-pull-test:<tag>".
std::string pushTestImage(const Registry& registry, std::size_t blob_bytes) {
  TempDir context;
  const std::string tag = randomHex(12);
  writeFile(context.path() + "/Dockerfile", "FROM dray-test/script\nCOPY blob /blob\n");
  std::ifstream random("/dev/urandom", std::ios::binary);
  std::string blob(blob_bytes, '\0');
  random.read(blob.data(), static_cast<std::streamsize>(blob.size()));
  writeFile(context.path() + "/blob", blob);
  const std::string pushed = registry.host() + "/dray-pull-test:" + tag;
  TempDir docker_config;
  writeDockerConfig(docker_config.path(), registry.host(), kUser, kPassword);
  int status = 0;
  std::string out = shell("DOCKER_BUILDKIT=0 docker build -q -t " + pushed + " " + context.path() + " 2>&1", &status);
  INFO(out);
  REQUIRE(status == 0);
  out = shell("DOCKER_CONFIG=" + docker_config.path() + " docker push " + pushed + " 2>&1", &status);
  INFO(out);
  REQUIRE(status == 0);
  out = shell("docker rmi " + pushed + " 2>&1", &status);
  INFO(out);
  REQUIRE(status == 0);
  return "dray-pull-test:" + tag;
}

std::string joined(const std::vector<std::string>& lines) {
  std::string text;
  for (const auto& line : lines) text += line + "\n";
  return text;
}

// The step: prints a marker and the size of the layer's file.
std::string pullJob(const std::string& image) {
  std::string step = dray::test::scriptStep("echo pulled-ok; wc -c < /blob");
  step.replace(step.find("dray-test/script"), 16, image);
  return R"({"steps":[)" + step.substr(0, step.size() - 1) + R"(,"refresh":true}]})";
}

// Neither the password nor anything that encodes it may reach a log.
void checkNoSecret(const std::string& text, const std::string& password = kPassword) {
  CHECK(text.find(password) == std::string::npos);
  CHECK(text.find(base64(kUser + ":" + password)) == std::string::npos);
  CHECK(text.find("X-Registry-Auth") == std::string::npos);
}

void removeImage(const std::string& image) { shell("docker rmi -f " + image + " >/dev/null 2>&1"); }

// A TCP relay to 127.0.0.1:`upstream` that passes what the client sends at once and what the
// upstream answers at `bytes_per_second`: small registry answers (manifests, config) come
// through in a moment, a layer of megabytes takes minutes. Plain POSIX sockets and threads.
class SlowProxy {
 public:
  SlowProxy(std::uint16_t upstream, std::size_t bytes_per_second)
      : upstream_(upstream), bytes_per_second_(bytes_per_second) {
    listen_fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    REQUIRE(listen_fd_ >= 0);
    sockaddr_in address = loopback(0);
    REQUIRE(::bind(listen_fd_, reinterpret_cast<sockaddr*>(&address), sizeof address) == 0);
    REQUIRE(::listen(listen_fd_, 16) == 0);
    socklen_t length = sizeof address;
    REQUIRE(::getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&address), &length) == 0);
    port_ = ntohs(address.sin_port);
    acceptor_ = std::thread([this] { acceptLoop(); });
  }
  ~SlowProxy() {
    stopping_ = true;
    ::shutdown(listen_fd_, SHUT_RDWR);
    acceptor_.join();
    {
      std::lock_guard lock(mutex_);
      for (int fd : fds_) ::shutdown(fd, SHUT_RDWR);
    }
    for (auto& thread : relays_) thread.join();
    for (int fd : fds_) ::close(fd);
    ::close(listen_fd_);
  }
  SlowProxy(const SlowProxy&) = delete;
  SlowProxy& operator=(const SlowProxy&) = delete;

  std::string host() const { return "127.0.0.1:" + std::to_string(port_); }
  std::size_t bytesDown() const { return bytes_down_.load(); }
  std::size_t openConnections() const { return open_.load(); }

 private:
  static sockaddr_in loopback(std::uint16_t port) {
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    address.sin_port = htons(port);
    return address;
  }

  void acceptLoop() {
    while (!stopping_) {
      const int client = ::accept(listen_fd_, nullptr, nullptr);
      if (client < 0) return;  // shut down
      const int server = ::socket(AF_INET, SOCK_STREAM, 0);
      sockaddr_in address = loopback(upstream_);
      if (::connect(server, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0) {
        ::close(client);
        ::close(server);
        continue;
      }
      std::lock_guard lock(mutex_);
      fds_.push_back(client);
      fds_.push_back(server);
      open_ += 1;
      relays_.emplace_back([this, client, server] { relay(client, server, 0); });
      relays_.emplace_back([this, client, server] { relay(server, client, bytes_per_second_); });
    }
  }

  // Copies from `from` to `to`, at `rate` bytes a second when non-zero; at the end of either
  // side both are shut down, so the other direction ends too.
  void relay(int from, int to, std::size_t rate) {
    char buffer[4096];
    const std::size_t chunk = rate ? std::min(sizeof buffer, rate / 10) : sizeof buffer;
    for (;;) {
      const ssize_t got = ::recv(from, buffer, chunk, 0);
      if (got <= 0 || ::send(to, buffer, static_cast<std::size_t>(got), MSG_NOSIGNAL) != got) break;
      if (rate == 0) continue;
      bytes_down_ += static_cast<std::size_t>(got);
      for (auto until = std::chrono::steady_clock::now() + std::chrono::microseconds(got * 1000000 / rate);
           !stopping_ && std::chrono::steady_clock::now() < until;) {
        std::this_thread::sleep_for(10ms);
      }
      if (stopping_) break;
    }
    ::shutdown(from, SHUT_RDWR);
    ::shutdown(to, SHUT_RDWR);
    if (rate) open_ -= 1;  // one count per connection: its slow side
  }

  std::uint16_t upstream_;
  std::size_t bytes_per_second_;
  std::uint16_t port_ = 0;
  int listen_fd_ = -1;
  std::atomic<bool> stopping_{false};
  std::atomic<std::size_t> bytes_down_{0};
  std::atomic<std::size_t> open_{0};
  std::mutex mutex_;
  std::vector<int> fds_;
  std::vector<std::thread> relays_;
  std::thread acceptor_;
};

}  // namespace

TEST_CASE("a private image is pulled with the DOCKER_CONFIG_FILE credentials", "[e2e][registry]") {
  Registry registry;
  const std::string image = registry.host() + "/" + pushTestImage(registry, 1 << 20);
  TempDir config;
  // Another spelling of the registry than the image's: matched as the docker CLI does.
  const std::string config_file =
      writeDockerConfig(config.path(), "http://" + registry.host() + "/v2/", kUser, kPassword);
  DrayProcess dray(EnvMap{{"DOCKER_CONFIG_FILE", config_file}});
  const std::string id = dray.submit(pullJob(image));
  INFO(dray.log());
  INFO(registry.log());
  const std::string status = dray.waitForJob(id, 120s);
  const auto lines = dray.logLines(id);
  INFO(joined(lines));
  CHECK(status == "complete");
  CHECK(std::find(lines.begin(), lines.end(), "pulled-ok") != lines.end());
  CHECK(std::find(lines.begin(), lines.end(), std::to_string(1 << 20)) != lines.end());
  std::vector<std::string> pull_lines;
  for (const auto& line : lines) {
    if (line.rfind("dray: pull", 0) == 0) pull_lines.push_back(line);
  }
  std::printf("registry: pull lines in the job log:\n%s", joined(pull_lines).c_str());
  REQUIRE(pull_lines.size() >= 2);
  CHECK(pull_lines.size() <= 6);  // a few lines, not one per layer event
  CHECK(pull_lines.front() == "dray: pulling image " + image + " with the credentials for " + registry.host());
  CHECK_THAT(pull_lines.back(), Catch::StartsWith("dray: pulled image " + image + " in ") &&
                                    Catch::Contains("1 layer downloaded (1.0 MB)") &&
                                    Catch::Contains("already present"));
  CHECK_THAT(dray.log(), Catch::Contains("registry credentials for 1 registries read from " + config_file));
  checkNoSecret(dray.log());
  checkNoSecret(joined(lines));
  removeImage(image);
}

TEST_CASE("a wrong password or no credentials end the job in error with the registry's answer", "[e2e][registry]") {
  Registry registry;
  const std::string image = registry.host() + "/" + pushTestImage(registry, 4096);
  TempDir config;

  SECTION("wrong password") {
    const std::string wrong = "Wrong-9d2e:password";
    DrayProcess dray(EnvMap{{"DOCKER_CONFIG_FILE", writeDockerConfig(config.path(), registry.host(), kUser, wrong)}});
    const std::string id = dray.submit(pullJob(image));
    INFO(dray.log());
    CHECK(dray.waitForJob(id, 60s) == "error");
    const auto lines = dray.logLines(id);
    INFO(joined(lines));
    REQUIRE(lines.size() == 2);
    CHECK(lines[0] == "dray: pulling image " + image + " with the credentials for " + registry.host());
    CHECK_THAT(lines[1], Catch::Contains("cannot pull image " + image + ": ") &&
                             Catch::Contains("unauthorized: authentication required"));
    checkNoSecret(dray.log(), wrong);
    checkNoSecret(joined(lines), wrong);
  }
  SECTION("credentials for other registries only") {
    DrayProcess dray(EnvMap{{"DOCKER_CONFIG_FILE", writeDockerConfig(config.path(), "127.0.0.1:1", kUser, kPassword)}});
    const std::string id = dray.submit(pullJob(image));
    INFO(dray.log());
    CHECK(dray.waitForJob(id, 60s) == "error");
    const auto lines = dray.logLines(id);
    INFO(joined(lines));
    REQUIRE(lines.size() == 2);
    CHECK(lines[0] == "dray: pulling image " + image);  // nothing sent
    CHECK_THAT(lines[1], Catch::Contains("cannot pull image " + image + ": ") &&
                             (Catch::Contains("no basic auth credentials") ||
                              Catch::Contains("unauthorized: authentication required")));
    checkNoSecret(dray.log());
  }
  SECTION("no DOCKER_CONFIG_FILE") {
    DrayProcess dray;
    const std::string id = dray.submit(pullJob(image));
    INFO(dray.log());
    CHECK(dray.waitForJob(id, 60s) == "error");
    const auto lines = dray.logLines(id);
    INFO(joined(lines));
    REQUIRE(lines.size() == 2);
    CHECK_THAT(lines[1], Catch::Contains("cannot pull image " + image + ": ") &&
                             (Catch::Contains("no basic auth credentials") ||
                              Catch::Contains("unauthorized: authentication required")));
  }
  int status = 0;
  shell("docker image inspect " + image + " >/dev/null 2>&1", &status);
  CHECK(status != 0);  // never pulled
}

TEST_CASE("a broken DOCKER_CONFIG_FILE stops start-up, naming the file and not its content", "[e2e][registry]") {
  TempDir config;
  const std::string secret = base64(kUser + ":" + kPassword);
  const std::string truncated = config.path() + "/truncated.json";
  writeFile(truncated, R"({"auths":{"127.0.0.1:5000":{"auth":")" + secret + R"("})");
  const std::string no_colon = config.path() + "/no-colon.json";
  writeFile(no_colon, R"({"auths":{"127.0.0.1:5000":{"auth":")" + base64(kPassword.substr(0, 7)) + R"("}}})");
  for (const std::string& path : {truncated, no_colon, config.path() + "/missing.json", config.path()}) {
    INFO(path);
    std::string log;
    CHECK(DrayProcess::runExpectingFailure(EnvMap{{"DOCKER_CONFIG_FILE", path}, {"LOG_LEVEL", "debug"}}, log) != 0);
    INFO(log);
    CHECK_THAT(log, Catch::Contains("cannot use the Docker config file " + path));
    CHECK(log.find(secret) == std::string::npos);
    CHECK(log.find(kPassword.substr(0, 7)) == std::string::npos);
  }
  // Credential helpers: a warning at start-up, and the auths entries still work.
  const std::string helpers = config.path() + "/helpers.json";
  writeFile(helpers, R"({"credsStore":"desktop","auths":{"127.0.0.1:5000":{"auth":")" + secret + R"("}}})");
  DrayProcess dray(EnvMap{{"DOCKER_CONFIG_FILE", helpers}});
  const std::string log = dray.log();
  CHECK_THAT(log, Catch::Contains("names credential helpers (credsStore/credHelpers); dray does not use them"));
  CHECK_THAT(log, Catch::Contains("registry credentials for 1 registries"));
  checkNoSecret(log);
}

TEST_CASE("a slow pull reports progress, times out after DRAY_PULL_TIMEOUT and is canceled at once",
          "[e2e][registry][slow]") {
  Registry registry;
  // 4 MiB of random bytes (the layer does not compress) at 64 KiB/s: a pull of a minute.
  SlowProxy proxy(registry.port(), 64 * 1024);
  TempDir config;
  const std::string config_file = writeDockerConfig(config.path(), proxy.host(), kUser, kPassword);

  SECTION("timeout") {
    const std::string image = proxy.host() + "/" + pushTestImage(registry, 4 << 20);
    DrayProcess dray(EnvMap{{"DOCKER_CONFIG_FILE", config_file}, {"DRAY_PULL_TIMEOUT", "8"}});
    const auto started = std::chrono::steady_clock::now();
    const std::string id = dray.submit(pullJob(image));
    INFO(dray.log());
    CHECK(dray.waitForJob(id, 60s) == "error");
    const std::chrono::duration<double> took = std::chrono::steady_clock::now() - started;
    const auto lines = dray.logLines(id);
    INFO(joined(lines));
    std::printf("registry: a pull past DRAY_PULL_TIMEOUT=8 ended the job after %.1f s (%zu bytes relayed):\n%s",
                took.count(), proxy.bytesDown(), joined(lines).c_str());
    CHECK(took > 7s);                                 // never before the timeout
    if (!dray::test::sanitized()) CHECK(took < 20s);  // sanitizers make everything slower
    REQUIRE(lines.size() >= 3);
    CHECK(lines.front() == "dray: pulling image " + image + " with the credentials for " + proxy.host());
    // The layer was under way: a progress line (every 5 s) says how far.
    CHECK_THAT(lines[1], Catch::StartsWith("dray: pulling image " + image + ": ") && Catch::Contains("layers done") &&
                             Catch::Contains("MB downloaded"));
    CHECK_THAT(lines.back(),
               Catch::Contains("cannot pull image " + image + ": no image after 8 s (DRAY_PULL_TIMEOUT)"));
    checkNoSecret(dray.log());
    checkNoSecret(joined(lines));
    // The engine drops a pull whose client went away.
    CHECK(waitUntil([&] { return proxy.openConnections() == 0; }, 30s));
    removeImage(image);
  }
  SECTION("cancel") {
    const std::string image = proxy.host() + "/" + pushTestImage(registry, 4 << 20);
    DrayProcess dray(EnvMap{{"DOCKER_CONFIG_FILE", config_file}});
    const std::string id = dray.submit(pullJob(image));
    INFO(dray.log());
    // The layer is coming in.
    REQUIRE(waitUntil([&] { return proxy.bytesDown() > 128 * 1024; }, 30s));
    const auto canceled = std::chrono::steady_clock::now();
    CHECK(dray.post("/jobs/" + id + "/cancel", "").status == 202);
    CHECK(dray.waitForJob(id, 30s) == "canceled");
    const std::chrono::duration<double> took = std::chrono::steady_clock::now() - canceled;
    const auto lines = dray.logLines(id);
    INFO(joined(lines));
    std::printf("registry: a pull under way was canceled in %.2f s:\n%s", took.count(), joined(lines).c_str());
    if (!dray::test::sanitized()) CHECK(took < 5s);  // sanitizers make everything slower
    CHECK_THAT(lines.back(), Catch::Contains("canceled"));
    CHECK(waitUntil([&] { return proxy.openConnections() == 0; }, 30s));
    checkNoSecret(dray.log());
    removeImage(image);
  }
}

#include "tests/support/test_support.hpp"

#include <array>
#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <Poco/Base64Encoder.h>
#include <Poco/JSON/Array.h>
#include <Poco/JSON/Parser.h>
#include <Poco/Net/HTTPClientSession.h>
#include <Poco/Net/HTTPRequest.h>
#include <Poco/Net/HTTPResponse.h>
#include <Poco/Net/ServerSocket.h>
#include <Poco/Net/StreamSocket.h>
#include <Poco/StreamCopier.h>
#include <Poco/TemporaryFile.h>
#include <catch2/catch.hpp>

namespace dray::test {
namespace fs = std::filesystem;

TempDir::TempDir() {
  path_ = Poco::TemporaryFile::tempName();
  fs::create_directories(path_);
}

TempDir::~TempDir() {
  std::error_code ec;
  fs::remove_all(path_, ec);
}

std::uint16_t freePort() {
  Poco::Net::ServerSocket socket(Poco::Net::SocketAddress("127.0.0.1", 0));
  return socket.address().port();
}

ClosedPort::ClosedPort() {
  // Plain POSIX: Poco's sockets only bind in order to listen.
  fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
  REQUIRE(fd_ >= 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  REQUIRE(::bind(fd_, reinterpret_cast<sockaddr*>(&address), sizeof address) == 0);
  socklen_t length = sizeof address;
  REQUIRE(::getsockname(fd_, reinterpret_cast<sockaddr*>(&address), &length) == 0);
  port_ = ntohs(address.sin_port);
}

ClosedPort::~ClosedPort() {
  if (fd_ >= 0) ::close(fd_);
}

bool sanitized() {
#ifdef DRAY_SANITIZED
  return true;
#else
  return false;
#endif
}

std::string base64(const std::string& text) {
  std::ostringstream out;
  Poco::Base64Encoder encoder(out);
  encoder.rdbuf()->setLineLength(0);
  encoder << text;
  encoder.close();
  return out.str();
}

bool waitUntil(const std::function<bool()>& condition, std::chrono::milliseconds timeout,
               std::chrono::milliseconds interval) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    if (condition()) return true;
    if (std::chrono::steady_clock::now() >= deadline) return condition();
    std::this_thread::sleep_for(interval);
  }
}

Poco::JSON::Object::Ptr HttpResult::json() const {
  Poco::JSON::Parser parser;
  return parser.parse(body).extract<Poco::JSON::Object::Ptr>();
}

HttpResult httpRequest(std::uint16_t port, const std::string& method, const std::string& path, const std::string& body,
                       const std::map<std::string, std::string>& headers) {
  Poco::Net::HTTPClientSession session("127.0.0.1", port);
  session.setTimeout(Poco::Timespan(30, 0));
  Poco::Net::HTTPRequest request(method, path, Poco::Net::HTTPMessage::HTTP_1_1);
  for (const auto& [name, value] : headers) request.set(name, value);
  if (!body.empty() || method == "POST" || method == "PUT") {
    request.setContentLength(static_cast<std::streamsize>(body.size()));
    if (!request.has("Content-Type")) request.setContentType("application/json");
  }
  session.sendRequest(request) << body;
  Poco::Net::HTTPResponse response;
  std::istream& in = session.receiveResponse(response);
  HttpResult result;
  result.status = response.getStatus();
  for (const auto& [name, value] : response) result.headers[name] = value;
  Poco::StreamCopier::copyToString(in, result.body);
  return result;
}

std::string rawRequest(std::uint16_t port, const std::string& bytes) {
  Poco::Net::StreamSocket socket(Poco::Net::SocketAddress("127.0.0.1", port));
  socket.setReceiveTimeout(Poco::Timespan(10, 0));
  try {
    socket.sendBytes(bytes.data(), static_cast<int>(bytes.size()));
    socket.shutdownSend();
  } catch (const Poco::Exception&) {
    // The server may answer and close before it read everything: read what it said.
  }
  std::string answer;
  std::array<char, 4096> buffer;
  try {
    for (;;) {
      int n = socket.receiveBytes(buffer.data(), static_cast<int>(buffer.size()));
      if (n <= 0) break;
      answer.append(buffer.data(), static_cast<std::size_t>(n));
    }
  } catch (const Poco::Exception&) {
  }
  return answer;
}

RedisServer::RedisServer(std::vector<std::string> extra_args) : port_(freePort()), extra_args_(std::move(extra_args)) {
  // redis-server cannot bind port 0: another process may take the probed port first, so a
  // server that does not come up is tried again on a new port.
  for (int attempt = 1;; ++attempt) {
    if (start(attempt == 5)) return;
    port_ = freePort();
  }
}

RedisServer::~RedisServer() { stop(); }

void RedisServer::start() { REQUIRE(start(true)); }

bool RedisServer::start(bool last_try) {
  std::vector<std::string> args{
      "--port", std::to_string(port_), "--bind", "127.0.0.1",     "--dir",  dir_.path(), "--save",
      "",       "--appendonly",        "yes",    "--appendfsync", "always", "--logfile", dir_.path() + "/redis.log"};
  args.insert(args.end(), extra_args_.begin(), extra_args_.end());
  // Ours is up when its own log says so (a probe could reach another process that holds
  // the port); a redis-server that cannot bind exits.
  const std::string log_path = dir_.path() + "/redis.log";
  fs::remove(log_path);
  handle_ = std::make_unique<Poco::ProcessHandle>(Poco::Process::launch("redis-server", args));
  bool exited = false;
  bool up = waitUntil(
                [&] {
                  if (handle_->tryWait() != -1) return exited = true;
                  std::ifstream log(log_path);
                  std::string text((std::istreambuf_iterator<char>(log)), std::istreambuf_iterator<char>());
                  return text.find("Ready to accept connections") != std::string::npos;
                },
                10s, 20ms) &&
            !exited;
  if (!up && !last_try) {
    if (!exited) {
      Poco::Process::kill(*handle_);
      handle_->wait();
    }
    handle_.reset();
  }
  return up;
}

void RedisServer::pause() {
  if (handle_) ::kill(handle_->id(), SIGSTOP);
}

void RedisServer::resume() {
  if (handle_) ::kill(handle_->id(), SIGCONT);
}

void RedisServer::stop() {
  resume();  // a stopped process does not act on SIGTERM

  if (!handle_) return;
  Poco::Process::requestTermination(handle_->id());
  handle_->wait();
  handle_.reset();
}

std::string RedisServer::cli(const std::string& arguments) const {
  std::string auth;
  for (std::size_t i = 0; i + 1 < extra_args_.size(); ++i) {
    if (extra_args_[i] == "--requirepass") auth = " --no-auth-warning -a " + extra_args_[i + 1];
  }
  return shell("redis-cli -p " + std::to_string(port_) + auth + " " + arguments);
}

std::string testStorage() {
  const char* storage = std::getenv("DRAY_TEST_STORAGE");
  return storage && *storage ? storage : "memory";
}

namespace {

// A sanitizer report in a dray child's output fails the test. ASan and TSan write theirs to
// files (log_path, set by scripts/sanitize.sh), but GCC's UBSan runtime beside ASan ignores
// log_path and writes to stderr, which is dray's log here: a finding while dray shuts down
// would otherwise pass unseen.
void checkNoSanitizerReport(const std::string& log) {
  for (const char* marker :
       {": runtime error: ", "ERROR: AddressSanitizer", "ERROR: LeakSanitizer", "WARNING: ThreadSanitizer"}) {
    if (log.find(marker) != std::string::npos) {
      FAIL_CHECK("sanitizer report in dray's output:\n" << log);
      return;
    }
  }
}

}  // namespace

int DrayProcess::runExpectingFailure(const EnvMap& env, std::string& log) {
  TempDir dir;
  EnvMap full = env;
  full.try_emplace("DRAY_PLUGIN_PATH", pluginDir());
  full.try_emplace("DRAY_INSTANCE", "test-failure-" + std::to_string(::getpid()));
  Poco::Process::Env process_env(full.begin(), full.end());
  std::string command = "exec \"$0\" -p 0 >" + dir.path() + "/dray.log 2>&1";
  Poco::ProcessHandle handle =
      Poco::Process::launch("/bin/sh", {"-c", command, drayBinary()}, nullptr, nullptr, nullptr, process_env);
  int code = -1;
  // tryWait reaps the child: isRunning() would still see an unreaped zombie as alive.
  bool ended = waitUntil([&] { return (code = handle.tryWait()) != -1; }, 60s);
  if (!ended) {
    Poco::Process::requestTermination(handle.id());
    handle.wait();
  }
  std::ifstream in(dir.path() + "/dray.log");
  std::stringstream text;
  text << in.rdbuf();
  log = text.str();
  checkNoSanitizerReport(log);
  return ended ? code : -1;
}

DrayProcess::DrayProcess(std::map<std::string, std::string> env) {
  static std::atomic<int> started{0};
  env.try_emplace("DRAY_PLUGIN_PATH", pluginDir());
  // Each dray reaps its own instance's containers at start-up: never another test's.
  env.try_emplace("DRAY_INSTANCE", "test-" + std::to_string(::getpid()) + "-" + std::to_string(++started));
  if (!env.count("DRAY_STORAGE") && testStorage() == "redis") {
    redis_ = std::make_unique<RedisServer>();
    env.try_emplace("DRAY_STORAGE", "redis");
    env.try_emplace("REDIS_URL", redis_->url());
  }
  // Without a storage setting dray picks redis when REDIS_PORT/REDIS_URL is present.
  if (!env.count("REDIS_PORT") && !env.count("REDIS_URL")) env.try_emplace("DRAY_STORAGE", "memory");
  env.try_emplace("LOG_LEVEL", "debug");
  env.try_emplace("DRAY_SHUTDOWN_GRACE", "1");  // tests end with jobs still sleeping
  Poco::Process::Env process_env(env.begin(), env.end());
  // Port 0: dray binds a free port itself and logs it, so no other process can take it
  // between a probe and the bind.
  std::string command = "exec \"$0\" -p 0 >>" + dir_.path() + "/dray.log 2>&1";
  handle_ = std::make_unique<Poco::ProcessHandle>(
      Poco::Process::launch("/bin/sh", {"-c", command, drayBinary()}, nullptr, nullptr, nullptr, process_env));
  bool up = waitUntil(
      [this] {
        if (!running()) return true;
        std::string text = log();
        auto at = text.find("dray listening on port ");
        if (at == std::string::npos) return false;
        port_ = static_cast<std::uint16_t>(std::stoi(text.substr(at + 23)));
        return true;
      },
      20s, 10ms);
  INFO(log());
  REQUIRE(up);
  REQUIRE(running());
}

DrayProcess::~DrayProcess() {
  if (!stopped_ && running()) stop();
  checkNoSanitizerReport(log());
}

bool DrayProcess::running() const {
  if (stopped_) return false;
  if (exit_code_ == -1) exit_code_ = handle_->tryWait();  // reaps: a zombie is not running
  return exit_code_ == -1;
}

int DrayProcess::stop() {
  if (running()) {
    Poco::Process::requestTermination(handle_->id());
    exit_code_ = handle_->wait();
  }
  stopped_ = true;
  return exit_code_;
}

void DrayProcess::kill() {
  if (running()) {
    Poco::Process::kill(*handle_);
    exit_code_ = handle_->wait();
  }
  stopped_ = true;
}

std::size_t DrayProcess::memoryBytes(const std::string& field) const {
  std::ifstream status("/proc/" + std::to_string(pid()) + "/status");
  for (std::string line; std::getline(status, line);) {
    if (line.rfind(field + ":", 0) == 0) return std::stoull(line.substr(field.size() + 1)) * 1024;  // reported in kB
  }
  return 0;
}

std::string DrayProcess::log() const {
  std::ifstream in(dir_.path() + "/dray.log");
  std::stringstream text;
  text << in.rdbuf();
  return "--- dray log ---\n" + text.str();
}

std::string DrayProcess::submit(const std::string& job_json) const {
  HttpResult result = post("/jobs", job_json);
  INFO(result.body);
  REQUIRE(result.status == 201);
  return result.json()->getValue<std::string>("id");
}

std::string DrayProcess::waitForJob(const std::string& id, std::chrono::seconds timeout) const {
  std::string status = "timeout";
  waitUntil(
      [&] {
        HttpResult result = get("/jobs/" + id);
        if (result.status != 200) return false;
        std::string current = result.json()->getValue<std::string>("status");
        if (current == "running") return false;
        status = current;
        return true;
      },
      timeout, 100ms);
  return status;
}

std::vector<std::string> DrayProcess::logLines(const std::string& id, std::size_t index) const {
  // A response may be partial (large logs are paged): follow ?index= until nothing comes.
  std::vector<std::string> lines;
  for (;;) {
    HttpResult result = get("/jobs/" + id + "/log?index=" + std::to_string(index + lines.size()));
    REQUIRE(result.status == 200);
    auto array = result.json()->getArray("lines");
    if (array->size() == 0) return lines;
    for (std::size_t i = 0; i < array->size(); ++i) lines.push_back(array->getElement<std::string>(i));
  }
}

std::string shell(const std::string& command, int* status) {
  std::string output;
  FILE* pipe = popen(command.c_str(), "r");
  if (!pipe) throw std::runtime_error("cannot run " + command);
  std::array<char, 4096> buffer;
  std::size_t n;
  while ((n = fread(buffer.data(), 1, buffer.size(), pipe)) > 0) output.append(buffer.data(), n);
  int rc = pclose(pipe);
  if (status) *status = WIFEXITED(rc) ? WEXITSTATUS(rc) : -1;
  return output;
}

std::vector<std::string> containersOfJob(const std::string& job_id, const std::string& status_filter) {
  int status = 0;
  std::string filter = status_filter.empty() ? "" : " --filter status=" + status_filter;
  std::string out = shell("docker ps -aq --filter label=dray.job=" + job_id + filter, &status);
  REQUIRE(status == 0);
  std::vector<std::string> ids;
  std::istringstream lines(out);
  for (std::string line; std::getline(lines, line);) {
    if (!line.empty()) ids.push_back(line);
  }
  return ids;
}

std::string drayBinary() { return DRAY_TEST_BINARY; }
std::string cliBinary() { return DRAY_TEST_CLI; }
std::string pluginDir() { return DRAY_TEST_PLUGIN_DIR; }
std::string testPluginDir() { return DRAY_TEST_FIXTURE_PLUGIN_DIR; }

}  // namespace dray::test

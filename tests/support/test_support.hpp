#pragma once

// Helpers shared by the integration tests: temp dirs, free ports, polling with a
// deadline, a minimal HTTP client, the real dray process, and the docker CLI.
#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include <Poco/JSON/Object.h>
#include <Poco/Process.h>

namespace dray::test {

using namespace std::chrono_literals;
using EnvMap = std::map<std::string, std::string>;

/// A fresh directory removed with the object.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

/// A loopback TCP port that was free a moment ago (bind 0, read, close). Only for servers
/// that cannot bind port 0 themselves (redis-server, socat): dray is started with `-p 0`.
std::uint16_t freePort();

/// A loopback port held bound but not listening for this object's life: connecting to it
/// is refused, and no other process can take it meanwhile (an "unreachable server").
class ClosedPort {
 public:
  ClosedPort();
  ~ClosedPort();
  ClosedPort(const ClosedPort&) = delete;
  ClosedPort& operator=(const ClosedPort&) = delete;
  std::uint16_t port() const { return port_; }

 private:
  int fd_ = -1;
  std::uint16_t port_ = 0;
};

/// True in a sanitizer build (-DDRAY_SANITIZE=…, which defines DRAY_SANITIZED). Everything
/// runs several times slower there and ASan's shadow memory inflates resident memory, so tests
/// skip their assertions on time and memory footprint, but still print what they measured.
bool sanitized();

/// Standard base64 of `text` on one line (credentials, job input).
std::string base64(const std::string& text);

/// Polls `condition` until it is true or `timeout` passes; returns its last value.
bool waitUntil(const std::function<bool()>& condition, std::chrono::milliseconds timeout,
               std::chrono::milliseconds interval = 50ms);

struct HttpResult {
  int status = 0;
  std::string body;
  std::map<std::string, std::string> headers;
  Poco::JSON::Object::Ptr json() const;  ///< body as an object (throws if it is not one)
};

/// One request to 127.0.0.1:port.
HttpResult httpRequest(std::uint16_t port, const std::string& method, const std::string& path,
                       const std::string& body = "", const std::map<std::string, std::string>& headers = {});

/// Raw bytes to 127.0.0.1:port, returns everything the server answered before closing.
std::string rawRequest(std::uint16_t port, const std::string& bytes);

/// A real redis-server on a free loopback port with its own directory (append-only file on,
/// so a restart keeps the data, as a production Redis would). Stopped with the object.
class RedisServer {
 public:
  explicit RedisServer(std::vector<std::string> extra_args = {});
  ~RedisServer();
  RedisServer(const RedisServer&) = delete;
  RedisServer& operator=(const RedisServer&) = delete;

  std::uint16_t port() const { return port_; }
  std::string url() const { return "redis://127.0.0.1:" + std::to_string(port_); }
  /// redis-cli against this server; returns its stdout.
  std::string cli(const std::string& arguments) const;
  void stop();
  void start();
  bool start(bool last_try);  // false: it did not come up (the port was taken) and was stopped
  /// SIGSTOP / SIGCONT: Redis keeps its connections but answers nothing meanwhile.
  void pause();
  void resume();

 private:
  TempDir dir_;
  std::uint16_t port_;
  std::vector<std::string> extra_args_;
  std::unique_ptr<Poco::ProcessHandle> handle_;
};

/// Which storage the HTTP tests run dray on: DRAY_TEST_STORAGE, "memory" by default.
std::string testStorage();

/// The real `dray` binary on a free port, with its own plugin path and environment.
/// Output goes to a log file shown when a test fails (see log()).
class DrayProcess {
 public:
  explicit DrayProcess(std::map<std::string, std::string> env = {});
  ~DrayProcess();
  DrayProcess(const DrayProcess&) = delete;
  DrayProcess& operator=(const DrayProcess&) = delete;

  std::uint16_t port() const { return port_; }
  std::string log() const;
  int pid() const { return static_cast<int>(handle_->id()); }
  bool running() const;
  /// SIGTERM and wait; returns the exit code.
  int stop();
  /// SIGKILL and wait: a crash, nothing cleaned up.
  void kill();
  /// Peak resident memory (VmHWM) in bytes, read from /proc while it runs.
  std::size_t peakRss() const { return memoryBytes("VmHWM"); }
  /// A memory field of /proc/<pid>/status in bytes ("VmRSS", "VmHWM"), 0 when unknown.
  std::size_t memoryBytes(const std::string& field) const;

  /// Starts dray expecting it to fail at start-up; returns its exit code, fills `log`.
  static int runExpectingFailure(const EnvMap& env, std::string& log);

  HttpResult get(const std::string& path) const { return httpRequest(port_, "GET", path); }
  HttpResult post(const std::string& path, const std::string& body) const {
    return httpRequest(port_, "POST", path, body);
  }
  HttpResult del(const std::string& path) const { return httpRequest(port_, "DELETE", path); }

  /// Posts a job and returns its id (REQUIREs 201).
  std::string submit(const std::string& job_json) const;
  /// Waits for the job to leave "running" and returns the final status ("timeout" if not).
  std::string waitForJob(const std::string& id, std::chrono::seconds timeout = 60s) const;
  std::vector<std::string> logLines(const std::string& id, std::size_t index = 0) const;

 private:
  std::unique_ptr<RedisServer> redis_;  // when the tests run on Redis storage
  TempDir dir_;
  std::uint16_t port_ = 0;
  std::unique_ptr<Poco::ProcessHandle> handle_;
  bool stopped_ = false;
  mutable int exit_code_ = -1;
};

/// Output of a shell command (stdout), and its exit status.
std::string shell(const std::string& command, int* status = nullptr);

/// Ids of containers carrying label dray.job=<job_id>; with `status_filter` ("running",
/// "created", …) only those in that state.
std::vector<std::string> containersOfJob(const std::string& job_id, const std::string& status_filter = "");

/// Absolute paths baked in by CMake.
std::string drayBinary();
std::string cliBinary();
std::string pluginDir();
std::string testPluginDir();

}  // namespace dray::test

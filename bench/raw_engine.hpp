#pragma once
// A raw Docker Engine API client written for the benchmarks: what a user would write instead
// of dray, and so the floor dray is measured against. It shares no code with dray (no core,
// no plugin, no SDK) on purpose: a baseline built from dray's own runtime would hide any
// cost that runtime adds. Poco::Net over the engine's unix socket, one step at a time:
// create, attach (before start), start, stream stdin/stdout/stderr, wait, remove.
#include <memory>
#include <string>
#include <vector>

#include <Poco/Net/HTTPClientSession.h>

namespace bench {

struct EngineReply {
  int status = 0;
  std::string body;
};

// What one step left behind: its exit code and everything it wrote.
struct StepResult {
  int exit_code = -1;
  std::string out;
  std::string err;
};

// Wall-clock milliseconds of each phase of the last step (for BENCH_DEBUG).
struct StepPhases {
  double create = 0, attach = 0, start = 0, stream = 0, wait = 0, remove = 0;
};

class RawEngine {
 public:
  explicit RawEngine(std::string socket_path = "/var/run/docker.sock");
  ~RawEngine();

  // One request on this client's keep-alive session; reads the whole body.
  EngineReply call(const std::string& method, const std::string& path, const std::string& json_body = "");
  // The same on a connection made for this request and closed after it.
  EngineReply callOnNewConnection(const std::string& method, const std::string& path);

  // Runs one container to its end with `input` on its stdin and removes it (also on failure).
  StepResult runStep(const std::string& image, const std::vector<std::string>& env, const std::string& input);

  const StepPhases& lastPhases() const { return phases_; }

 private:
  std::string create(const std::string& image, const std::vector<std::string>& env);
  StepResult stream(const std::string& id, const std::string& input);
  void remove(const std::string& id);

  std::string socket_path_;
  std::unique_ptr<Poco::Net::HTTPClientSession> session_;
  StepPhases phases_;
};

}  // namespace bench

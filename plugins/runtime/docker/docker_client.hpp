#pragma once

#include <functional>
#include <istream>
#include <memory>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include <Poco/Net/StreamSocket.h>
#include <Poco/Timespan.h>

#include "plugins/runtime/docker/call_interrupt.hpp"
#include "plugins/runtime/docker/docker_endpoint.hpp"

namespace dray::plugins::runtime::docker {

/// Engine API version we speak.
inline constexpr const char* kApiPrefix = "/v1.41";

/// Extra request headers, name and value.
using Headers = std::vector<std::pair<std::string, std::string>>;

struct DockerResponse {
  int status = 0;
  std::string body;  ///< whole body; for streamed calls only on errors
};

/// A raw duplex stream to a container after the attach upgrade.
struct AttachedStream {
  Poco::Net::StreamSocket socket;
  std::string leftover;  ///< stream bytes Poco read past the 101 headers: feed them first
};

/// Talks to the Docker Engine API over pooled keep-alive sessions. Thread-safe: each
/// call borrows a session, and a session that saw any error is dropped, never reused.
/// Network failures throw sdk::EngineError naming the endpoint.
class DockerClient {
 public:
  explicit DockerClient(DockerEndpoint endpoint) : endpoint_(std::move(endpoint)) {}

  /// A request with an optional JSON body; reads the whole response. `timeout` bounds
  /// each wait for the engine; `interrupt`, when given, can end the call from another thread.
  DockerResponse request(const std::string& method, const std::string& path, const std::string& json_body,
                         Poco::Timespan timeout, CallInterrupt* interrupt = nullptr);

  /// A bodyless request whose 2xx body is handed to `read_body` as a stream (the rest
  /// is drained afterwards). Other statuses return with their body. `headers` are added to
  /// the request (X-Registry-Auth: a secret, never logged).
  DockerResponse streamed(const std::string& method, const std::string& path,
                          const std::function<void(std::istream&)>& read_body, Poco::Timespan timeout,
                          CallInterrupt* interrupt = nullptr, const Headers& headers = {});

  /// POST /containers/{id}/attach with the tcp upgrade, on a connection of its own.
  AttachedStream attach(const std::string& container_id, Poco::Timespan timeout, CallInterrupt* interrupt = nullptr);

  const DockerEndpoint& endpoint() const { return endpoint_; }

 private:
  using SessionPtr = std::unique_ptr<Poco::Net::HTTPClientSession>;
  SessionPtr acquire();
  void release(SessionPtr session, const CallInterrupt* interrupt = nullptr);
  [[noreturn]] void fail(const std::string& method, const std::string& path, const std::exception& e) const;

  DockerEndpoint endpoint_;
  std::mutex mutex_;
  std::vector<SessionPtr> idle_;
};

/// The "message" field of an engine error body, or the body itself.
std::string engineMessage(const std::string& body);

}  // namespace dray::plugins::runtime::docker

#pragma once

// A Server-Sent Events client for tests and benchmarks: the real HTTP client (Poco) and
// dray-cli's SSE reader.
#include <chrono>
#include <cstdint>
#include <istream>
#include <map>
#include <memory>
#include <optional>
#include <string>

#include <Poco/JSON/Object.h>
#include <Poco/Net/HTTPClientSession.h>
#include <Poco/Net/HTTPResponse.h>

#include "app/cli/sse_reader.hpp"

namespace dray::test {

struct SseEvent : cli::SseEvent {
  std::chrono::steady_clock::time_point received;
  Poco::JSON::Object::Ptr json() const;  ///< data as an object
};

class SseClient {
 public:
  /// Connects to 127.0.0.1:port (from `source_address`, a loopback address, when given),
  /// sends GET `path` with `headers`, reads the response head. A read waits `timeout` at most.
  SseClient(std::uint16_t port, const std::string& path, const std::map<std::string, std::string>& headers = {},
            std::chrono::milliseconds timeout = std::chrono::seconds(60), const std::string& source_address = "");

  int status() const { return response_.getStatus(); }
  std::string header(const std::string& name) const { return response_.get(name, ""); }
  /// The whole body, for an answer that is not an event stream (an error).
  std::string body();

  /// The next event; nullopt when the stream ended. Throws Poco::TimeoutException when
  /// nothing came within the timeout.
  std::optional<SseEvent> next();
  /// Comment lines seen so far (heartbeats).
  std::size_t comments() const { return reader_ ? reader_->comments() : 0; }
  /// The last `retry:` value seen, in ms (0: none).
  long retryMs() const { return reader_ ? reader_->retryMs() : 0; }

 private:
  std::unique_ptr<Poco::Net::HTTPClientSession> session_;
  Poco::Net::HTTPResponse response_;
  std::istream* body_ = nullptr;
  std::unique_ptr<cli::SseReader> reader_;
};

}  // namespace dray::test

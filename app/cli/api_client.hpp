#pragma once

#include <functional>
#include <memory>
#include <stdexcept>
#include <string>

#include <Poco/JSON/Array.h>
#include <Poco/JSON/Object.h>
#include <Poco/Net/Context.h>
#include <Poco/Net/HTTPClientSession.h>
#include <Poco/URI.h>

#include "app/cli/sse_reader.hpp"

namespace dray::cli {

/// dray answered with an error status, or could not be reached.
class ApiError : public std::runtime_error {
 public:
  ApiError(int status, const std::string& message) : std::runtime_error(message), status_(status) {}
  int status() const { return status_; }  ///< 0 when dray could not be reached

 private:
  int status_;
};

/// How the CLI proves who it is and whom it talks to.
struct Credentials {
  std::string token;      ///< bearer token (DRAY_TOKEN or --token-file); empty: none
  std::string ca_file;    ///< --cacert: PEM of the CA that signed dray's certificate
  std::string cert_file;  ///< --cert/--key: client certificate for mTLS
  std::string key_file;
};

/// The few calls the CLI makes, over Poco's HTTP(S) client. One connection per call.
class ApiClient {
 public:
  explicit ApiClient(const std::string& url, Credentials credentials = {});

  std::string submit(const std::string& job_json);  ///< returns the job id
  Poco::JSON::Array::Ptr list();
  Poco::JSON::Object::Ptr job(const std::string& id);
  /// Log lines from `index` (one page; empty when there is nothing new).
  /// At most kLogPage log lines from `index` (the API's opt-in paging).
  static constexpr std::size_t kLogPage = 5000;
  Poco::JSON::Array::Ptr log(const std::string& id, std::size_t index);
  void cancel(const std::string& id);
  void remove(const std::string& id);

  /// GET /jobs/{id}?wait=SECONDS: the record once the job ended, or after SECONDS (a dray
  /// without the long-poll answers at once).
  Poco::JSON::Object::Ptr waitForJob(const std::string& id, unsigned seconds);

  enum class Follow { kEnded, kUnsupported };
  /// Reads the job's live events (GET /jobs/{id}/events) until `end` or `removed`, calling
  /// `on_event` for each. A stream that breaks is opened again with Last-Event-ID, so no
  /// line is lost or repeated. kUnsupported: this dray has no event stream (older).
  Follow followEvents(const std::string& id, const std::function<void(const SseEvent&)>& on_event);

 private:
  std::string call(const std::string& method, const std::string& path, const std::string& body = "",
                   long timeout_seconds = 30);
  std::unique_ptr<Poco::Net::HTTPClientSession> session() const;

  Poco::URI base_;
  Credentials credentials_;
};

}  // namespace dray::cli

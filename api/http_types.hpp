#pragma once

#include <algorithm>
#include <cctype>
#include <map>
#include <memory>
#include <optional>
#include <sstream>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

namespace dray::api {

/// What a caller may do, from its bearer token (see access_policy.hpp).
enum class Role { kAdmin, kUser, kRead };

/// Who made a request. With authentication off every caller is an unnamed admin.
struct Caller {
  std::string name;  ///< the token's name from the tokens file; never the token itself
  Role role = Role::kAdmin;
};

/// A request as the router sees it: decoded path, query parameters, whole body.
struct Request {
  std::string method;
  std::string path;
  std::multimap<std::string, std::string> query;
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;
  std::string peer;  ///< the client's IP address
  Caller caller;     ///< set by the front once the token was checked

  /// The first value of a header field (names compare without case), or "".
  std::string header(const std::string& name) const {
    for (const auto& [key, value] : headers) {
      if (key.size() == name.size() &&
          std::equal(key.begin(), key.end(), name.begin(),
                     [](unsigned char a, unsigned char b) { return std::tolower(a) == std::tolower(b); })) {
        return value;
      }
    }
    return "";
  }
};

/// A body sent while it is produced (chunked transfer encoding), for answers too large to
/// hold. The front asks for the next piece only once the previous one was written, so one
/// piece per connection is in memory and a slow client holds no thread.
class BodyProducer {
 public:
  virtual ~BodyProducer() = default;
  /// The next piece of the body, or nullopt at its end. Runs on a handler thread and may
  /// block (e.g. on storage). An exception ends the connection without the final chunk, so
  /// the client sees that the body was cut.
  virtual std::optional<std::string> next() = 0;
};

/// What a handler answers. Bodies are JSON unless `content_type` says otherwise.
struct Response {
  int status = 200;
  std::string body;
  std::string content_type = "application/json";
  std::vector<std::pair<std::string, std::string>> headers;
  std::shared_ptr<BodyProducer> stream{};  ///< set: the body comes from it (and `body` is unused)
};

/// Thrown by handlers to answer with a 4xx/5xx and {"error": message}.
class HttpError : public std::runtime_error {
 public:
  HttpError(int status, const std::string& message) : std::runtime_error(message), status_(status) {}
  int status() const { return status_; }

 private:
  int status_;
};

/// A JSON body (a Poco::JSON Object or Array) with the given status.
template <typename Json>
Response jsonResponse(int status, const Json& value) {
  std::ostringstream out;
  value.stringify(out);
  return Response{status, std::move(out).str(), "application/json", {}};
}

/// {"error": message} with the given status.
Response errorResponse(int status, const std::string& message);

}  // namespace dray::api

#pragma once

#include <map>
#include <sstream>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

namespace dray::api {

/// A request as the router sees it: decoded path, query parameters, whole body.
struct Request {
  std::string method;
  std::string path;
  std::multimap<std::string, std::string> query;
  std::string body;
};

/// What a handler answers. Bodies are JSON unless `content_type` says otherwise.
struct Response {
  int status = 200;
  std::string body;
  std::string content_type = "application/json";
  std::vector<std::pair<std::string, std::string>> headers;
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

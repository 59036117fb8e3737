#pragma once

#include <algorithm>
#include <cctype>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
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
/// hold or that follow events. The front asks for the next piece only once the previous one
/// was written, so one piece per connection is in memory and a slow client holds no thread.
class BodyProducer {
 public:
  virtual ~BodyProducer() = default;
  /// The next piece of the body, or nullopt at its end. Runs on a handler thread and may
  /// block briefly (e.g. on storage). An empty piece means "nothing to send yet": the front
  /// then holds no thread and calls next() again after wake(). An exception ends the
  /// connection without the final chunk, so the client sees that the body was cut.
  virtual std::optional<std::string> next() = 0;

  /// Whether it waits for wake() (holding no thread), for the front's bookkeeping.
  bool parked() const {
    std::lock_guard lock(wake_mutex_);
    return parked_;
  }

  /// Asks for another call of next(), from any thread, at any time: a wake-up that comes
  /// while next() runs or a piece is written is not lost, and several merge into one call.
  void wake() {
    std::function<void()> resume;
    {
      std::lock_guard lock(wake_mutex_);
      if (!parked_) {
        woken_ = true;
        return;
      }
      parked_ = false;
      resume = std::move(resume_);
    }
    resume();
  }

 private:
  friend class HttpFront;
  // The front's side of wake(): before next() runs, and after it returned an empty piece
  // (true: parked until wake() calls `resume`; false: woken meanwhile, call next() again).
  void beforeNext() {
    std::lock_guard lock(wake_mutex_);
    woken_ = false;
  }
  bool parkUnlessWoken(std::function<void()> resume) {
    std::lock_guard lock(wake_mutex_);
    if (woken_) {
      woken_ = false;
      return false;
    }
    parked_ = true;
    resume_ = std::move(resume);
    return true;
  }

  mutable std::mutex wake_mutex_;
  bool parked_ = false;
  bool woken_ = false;
  std::function<void()> resume_;
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

#include "router.hpp"

#include <algorithm>
#include <cctype>

#include <Poco/JSON/Object.h>
#include <Poco/StringTokenizer.h>
#include <Poco/TextConverter.h>
#include <Poco/UTF8Encoding.h>
#include <spdlog/spdlog.h>

#include "dray/sdk/errors.hpp"

namespace dray::api {
namespace {

bool isVersionSegment(const std::string& segment) {
  return segment.size() > 1 && segment[0] == 'v' &&
         std::all_of(segment.begin() + 1, segment.end(), [](unsigned char c) { return std::isdigit(c); });
}

bool match(const std::vector<std::string>& pattern, const std::vector<std::string>& path, PathParams& params) {
  if (pattern.size() != path.size()) return false;
  params.clear();
  for (std::size_t i = 0; i < pattern.size(); ++i) {
    if (pattern[i].size() > 1 && pattern[i].front() == '{') {
      params.push_back(path[i]);
    } else if (pattern[i] != path[i]) {
      return false;
    }
  }
  return true;
}

}  // namespace

Response errorResponse(int status, const std::string& message) {
  // Messages may quote client bytes (e.g. a parser's "unexpected byte"): keep the JSON valid UTF-8.
  std::string clean;
  Poco::UTF8Encoding utf8;
  Poco::TextConverter(utf8, utf8, '?').convert(message, clean);
  Poco::JSON::Object body;
  body.set("error", clean);
  return jsonResponse(status, body);
}

std::vector<std::string> routeSegments(const std::string& path) {
  Poco::StringTokenizer tokens(path, "/", Poco::StringTokenizer::TOK_IGNORE_EMPTY);
  std::vector<std::string> segments(tokens.begin(), tokens.end());
  if (!segments.empty() && isVersionSegment(segments.front())) segments.erase(segments.begin());
  return segments;
}

void Router::add(const std::string& method, const std::string& pattern, Handler handler) {
  Poco::StringTokenizer tokens(pattern, "/", Poco::StringTokenizer::TOK_IGNORE_EMPTY);
  routes_.push_back(Route{method, {tokens.begin(), tokens.end()}, std::move(handler)});
}

Response Router::dispatch(const Request& request) const {
  const auto segments = routeSegments(request.path);
  std::vector<std::string> allowed;
  PathParams params;
  for (const auto& route : routes_) {
    if (!match(route.segments, segments, params)) continue;
    if (route.method != request.method) {
      allowed.push_back(route.method);
      continue;
    }
    try {
      return route.handler(request, params);
    } catch (const HttpError& e) {
      return errorResponse(e.status(), e.what());
    } catch (const sdk::StorageError& e) {
      // Storage away (e.g. Redis restarting): worth retrying, unlike a bug.
      return errorResponse(503, std::string("storage unavailable: ") + e.what());
    } catch (const std::exception& e) {
      spdlog::error("{} {}: {}", request.method, request.path, e.what());
      return errorResponse(500, std::string("internal error: ") + e.what());
    }
  }
  if (allowed.empty()) return errorResponse(404, "no such endpoint: " + request.method + " " + request.path);
  std::string allow;
  for (const auto& m : allowed) allow += (allow.empty() ? "" : ", ") + m;
  Response response = errorResponse(405, "method " + request.method + " is not allowed on " + request.path +
                                             " (allowed: " + allow + ")");
  response.headers.emplace_back("Allow", allow);
  return response;
}

}  // namespace dray::api

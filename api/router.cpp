#include "api/router.hpp"

#include <algorithm>
#include <cctype>

#include <Poco/JSON/Object.h>
#include <Poco/String.h>
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
  auto access = findRouteAccess(table_, method, pattern);
  if (!access) throw std::logic_error("route " + method + " " + pattern + " has no row in the role table");
  Poco::StringTokenizer tokens(pattern, "/", Poco::StringTokenizer::TOK_IGNORE_EMPTY);
  routes_.push_back(Route{method, {tokens.begin(), tokens.end()}, *access, std::move(handler)});
}

bool Router::isPublic(const RouteAccess& access) const {
  return access.access == Access::kPublic || (access.access == Access::kMetrics && metrics_public_);
}

// Sets the caller from the bearer token; an answer when there is none or it is unknown.
std::optional<Response> Router::authenticate(Request& request) const {
  std::string header = request.header("Authorization");
  std::string token;
  if (header.size() > 7 && Poco::icompare(header.substr(0, 7), "Bearer ") == 0) token = Poco::trim(header.substr(7));
  std::optional<Caller> caller;
  if (!token.empty()) caller = tokens_->find(token);
  if (caller) {
    request.caller = *caller;
    return std::nullopt;
  }
  Response response = errorResponse(
      401, token.empty() ? "this route needs an Authorization: Bearer token" : "the bearer token is not valid");
  response.headers.emplace_back(
      "WWW-Authenticate", token.empty() ? R"(Bearer realm="dray")" : R"(Bearer realm="dray", error="invalid_token")");
  return response;
}

std::optional<Response> Router::authorize(const Request& request, const Route& route, const PathParams& params) const {
  if (!tokens_ || isPublic(route.access)) return std::nullopt;
  const Caller& caller = request.caller;
  if (!roleAllows(caller.role, route.access.access)) {
    return errorResponse(403, "token '" + caller.name + "' (role " + roleName(caller.role) + ") may not " +
                                  request.method + " " + request.path);
  }
  if (caller.role == Role::kUser && route.access.job_scoped && !params.empty()) {
    // Another's job does not exist for a user token: 404, the same as an unknown id.
    auto creator = creator_of_ ? creator_of_(params.front()) : std::nullopt;
    if (!creator || *creator != caller.name) return errorResponse(404, "no such job: " + params.front());
  }
  return std::nullopt;
}

Response Router::run(const Route& route, const Request& request, const PathParams& params) const {
  try {
    if (auto refused = authorize(request, route, params)) return *refused;
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

Response Router::dispatch(Request& request) const {
  const auto segments = routeSegments(request.path);
  std::vector<std::string> allowed;
  PathParams params;
  const Route* found = nullptr;
  for (const auto& route : routes_) {
    if (!match(route.segments, segments, params)) continue;
    if (route.method == request.method) {
      found = &route;
      break;
    }
    allowed.push_back(route.method);
  }
  // Without a valid token nothing but public routes answers, not even with a 404.
  if (tokens_ && !(found && isPublic(found->access))) {
    if (auto refused = authenticate(request)) return *refused;
  }
  if (found) return run(*found, request, params);
  if (allowed.empty()) return errorResponse(404, "no such endpoint: " + request.method + " " + request.path);
  std::string allow;
  for (const auto& m : allowed) allow += (allow.empty() ? "" : ", ") + m;
  Response response = errorResponse(
      405, "method " + request.method + " is not allowed on " + request.path + " (allowed: " + allow + ")");
  response.headers.emplace_back("Allow", allow);
  return response;
}

}  // namespace dray::api

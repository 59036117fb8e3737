#pragma once

#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "api/access_policy.hpp"
#include "api/http_types.hpp"
#include "api/token_store.hpp"

namespace dray::api {

/// Path segments captured by `{name}` placeholders, in order.
using PathParams = std::vector<std::string>;
using Handler = std::function<Response(const Request&, const PathParams&)>;

/// The creator (token name) of a job, or nullopt when there is no such job.
using CreatorLookup = std::function<std::optional<std::string>(const std::string& job_id)>;

/// Maps method + path pattern to handlers. Patterns are literal segments and `{name}`
/// placeholders ("/jobs/{id}/log"). Every route also answers under a "/v<N>" prefix.
/// Unknown paths give 404, a known path with another method gives 405 with Allow.
///
/// It is also the one place that decides who may call a route: with tokens set, a
/// request without a valid bearer token gets 401 (whatever the path, except public
/// routes), a role below the route's row in the role table 403, and a user token asking
/// for another's job 404, before any handler runs.
class Router {
 public:
  /// `table` is the role table every route must appear in (tests bring their own).
  explicit Router(std::vector<RouteAccess> table = routeAccessTable()) : table_(std::move(table)) {}

  /// Throws std::logic_error when the route has no row in the role table.
  void add(const std::string& method, const std::string& pattern, Handler handler);

  /// Turns authentication on (tokens not empty). `tokens` must outlive the router.
  void setAuthentication(const TokenStore* tokens, bool metrics_public) {
    tokens_ = tokens;
    metrics_public_ = metrics_public;
  }
  /// How job-scoped routes find a job's creator for user tokens.
  void setCreatorLookup(CreatorLookup lookup) { creator_of_ = std::move(lookup); }

  /// Never throws: handler exceptions become JSON errors (HttpError status, else 500).
  /// Sets `request.caller` from its token.
  Response dispatch(Request& request) const;
  Response dispatch(Request&& request) const { return dispatch(request); }

 private:
  struct Route {
    std::string method;
    std::vector<std::string> segments;
    RouteAccess access;
    Handler handler;
  };

  bool isPublic(const RouteAccess& access) const;
  std::optional<Response> authenticate(Request& request) const;
  std::optional<Response> authorize(const Request& request, const Route& route, const PathParams& params) const;
  Response run(const Route& route, const Request& request, const PathParams& params) const;

  std::vector<RouteAccess> table_;
  std::vector<Route> routes_;
  const TokenStore* tokens_ = nullptr;
  bool metrics_public_ = false;
  CreatorLookup creator_of_;
};

/// Splits a path into its non-empty segments, dropping a leading "/v<digits>".
std::vector<std::string> routeSegments(const std::string& path);

}  // namespace dray::api

#pragma once

#include <optional>
#include <string>
#include <vector>

#include "api/http_types.hpp"

namespace dray::api {

/// Who may call a route once authentication is on.
enum class Access {
  kPublic,   ///< anyone, no token (health, the web UI's static files)
  kRead,     ///< any valid token
  kWrite,    ///< admin and user tokens; a read token gets 403
  kAdmin,    ///< admin tokens only
  kMetrics,  ///< like kRead, or kPublic when DRAY_METRICS_PUBLIC=1
};

/// One row of the role table.
struct RouteAccess {
  std::string method;
  std::string pattern;  ///< as given to Router::add, e.g. "/jobs/{id}/log"
  Access access;
  bool job_scoped;  ///< the first path parameter is a job id: a user token sees only its own jobs
};

/// The role table: every route dray serves, present and planned, with what it needs.
/// Router::add refuses a route that has no row here, so no route is ever left open by
/// forgetting it.
const std::vector<RouteAccess>& routeAccessTable();

/// The row of `table` for `method` + `pattern`, or nullopt.
std::optional<RouteAccess> findRouteAccess(const std::vector<RouteAccess>& table, const std::string& method,
                                           const std::string& pattern);

/// What a caller with `role` may do on a route needing `access`: true when allowed.
bool roleAllows(Role role, Access access);

}  // namespace dray::api

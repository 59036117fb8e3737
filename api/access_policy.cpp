#include "api/access_policy.hpp"

namespace dray::api {

const std::vector<RouteAccess>& routeAccessTable() {
  static const std::vector<RouteAccess> table = {
      {"GET", "/healthz", Access::kPublic, false},
      {"GET", "/ui/{file}", Access::kPublic, false},  // static files of the web UI: no data in them
      {"GET", "/ui", Access::kPublic, false},         // the UI's index page
      {"GET", "/", Access::kPublic, false},           // sends browsers to /ui/, 404 to others
      {"GET", "/metrics", Access::kMetrics, false},
      {"GET", "/plugins", Access::kRead, false},
      {"GET", "/nodes", Access::kRead, false},
      {"GET", "/events", Access::kRead, false},
      {"GET", "/jobs", Access::kRead, false},  // a user token lists only its own jobs
      {"POST", "/jobs", Access::kWrite, false},
      {"GET", "/jobs/{id}", Access::kRead, true},
      {"DELETE", "/jobs/{id}", Access::kWrite, true},
      {"GET", "/jobs/{id}/log", Access::kRead, true},
      {"GET", "/jobs/{id}/output", Access::kRead, true},
      // The definition holds environment values and the callback URL: not for read tokens.
      {"GET", "/jobs/{id}/definition", Access::kWrite, true},
      {"GET", "/jobs/{id}/events", Access::kRead, true},
      {"POST", "/jobs/{id}/cancel", Access::kWrite, true},
  };
  return table;
}

std::optional<RouteAccess> findRouteAccess(const std::vector<RouteAccess>& table, const std::string& method,
                                           const std::string& pattern) {
  for (const auto& row : table) {
    if (row.method == method && row.pattern == pattern) return row;
  }
  return std::nullopt;
}

bool roleAllows(Role role, Access access) {
  switch (access) {
    case Access::kPublic:
    case Access::kRead:
    case Access::kMetrics:
      return true;
    case Access::kWrite:
      return role != Role::kRead;
    case Access::kAdmin:
      return role == Role::kAdmin;
  }
  return false;
}

}  // namespace dray::api

#pragma once

#include <functional>
#include <string>
#include <vector>

#include "http_types.hpp"

namespace dray::api {

/// Path segments captured by `{name}` placeholders, in order.
using PathParams = std::vector<std::string>;
using Handler = std::function<Response(const Request&, const PathParams&)>;

/// Maps method + path pattern to handlers. Patterns are literal segments and `{name}`
/// placeholders ("/jobs/{id}/log"). Every route also answers under a "/v<N>" prefix.
/// Unknown paths give 404, a known path with another method gives 405 with Allow.
class Router {
 public:
  void add(const std::string& method, const std::string& pattern, Handler handler);

  /// Never throws: handler exceptions become JSON errors (HttpError status, else 500).
  Response dispatch(const Request& request) const;

 private:
  struct Route {
    std::string method;
    std::vector<std::string> segments;
    Handler handler;
  };

  std::vector<Route> routes_;
};

/// Splits a path into its non-empty segments, dropping a leading "/v<digits>".
std::vector<std::string> routeSegments(const std::string& path);

}  // namespace dray::api

#include "api/access_policy.hpp"

#include <sys/stat.h>

#include <fstream>

#include <catch2/catch.hpp>

#include "api/router.hpp"
#include "tests/support/test_support.hpp"

using namespace dray::api;

namespace {

const std::string kAdminToken = "admin-token-0123456789abcdef";
const std::string kUserToken = "user-token-0123456789abcdef";
const std::string kOtherToken = "other-token-0123456789abcdef";
const std::string kReadToken = "read-token-0123456789abcdef";

TokenStore tokens(const dray::test::TempDir& dir) {
  std::string path = dir.path() + "/tokens";
  std::ofstream(path) << "ops admin " << kAdminToken << "\nci user " << kUserToken << "\nother user " << kOtherToken
                      << "\ngrafana read " << kReadToken << "\n";
  ::chmod(path.c_str(), 0400);
  return TokenStore::load("", path);
}

Response call(const Router& router, const std::string& method, const std::string& path, const std::string& token,
              std::string* caller = nullptr) {
  Request request;
  request.method = method;
  request.path = path;
  if (!token.empty()) request.headers.emplace_back("Authorization", "Bearer " + token);
  Response response = router.dispatch(request);
  if (caller) *caller = request.caller.name;
  return response;
}

Router routerWithEveryRoute() {
  Router router;
  for (const auto& row : routeAccessTable()) {
    router.add(row.method, row.pattern, [](const Request&, const PathParams&) {
      return Response{200, "ok", "text/plain", {}};
    });
  }
  // Job "MINE" was created by the user token "ci"; "THEIRS" by "other".
  router.setCreatorLookup([](const std::string& id) -> std::optional<std::string> {
    if (id == "MINE") return "ci";
    if (id == "THEIRS") return "other";
    return std::nullopt;
  });
  return router;
}

std::string concrete(const std::string& pattern, const std::string& job) {
  std::string path = pattern;
  for (const auto* placeholder : {"{id}", "{file}"}) {
    if (auto at = path.find(placeholder); at != std::string::npos)
      path.replace(at, std::string(placeholder).size(), job);
  }
  return path;
}

}  // namespace

TEST_CASE("every route answers every role as the role table says", "[api][auth]") {
  dray::test::TempDir dir;
  TokenStore store = tokens(dir);
  Router router = routerWithEveryRoute();
  router.setAuthentication(&store, false);
  for (const auto& row : routeAccessTable()) {
    const std::string path = concrete(row.pattern, "MINE");
    INFO(row.method << " " << path);
    const bool open = row.access == Access::kPublic;
    CHECK(call(router, row.method, path, "").status == (open ? 200 : 401));
    CHECK(call(router, row.method, path, "not-a-valid-token-at-all").status == (open ? 200 : 401));
    CHECK(call(router, row.method, path, kAdminToken).status == 200);
    CHECK(call(router, row.method, path, kReadToken).status ==
          (row.access == Access::kWrite || row.access == Access::kAdmin ? 403 : 200));
    CHECK(call(router, row.method, path, kUserToken).status == (row.access == Access::kAdmin ? 403 : 200));
    if (row.job_scoped) {
      const std::string theirs = concrete(row.pattern, "THEIRS");
      CHECK(call(router, row.method, theirs, kUserToken).status == 404);
      CHECK(call(router, row.method, theirs, kAdminToken).status == 200);
      CHECK(call(router, row.method, concrete(row.pattern, "NONE"), kUserToken).status == 404);
    }
  }
}

TEST_CASE("without a token nothing but public routes answers, not even a 404", "[api][auth]") {
  dray::test::TempDir dir;
  TokenStore store = tokens(dir);
  Router router = routerWithEveryRoute();
  router.setAuthentication(&store, false);
  auto refused = call(router, "GET", "/no/such/thing", "");
  CHECK(refused.status == 401);
  CHECK(refused.headers.front() == std::pair<std::string, std::string>("WWW-Authenticate", R"(Bearer realm="dray")"));
  CHECK(call(router, "GET", "/no/such/thing", kReadToken).status == 404);
  auto invalid = call(router, "GET", "/jobs", "wrong-token-0123456789");
  CHECK(invalid.headers.front().second == R"(Bearer realm="dray", error="invalid_token")");
  CHECK(call(router, "GET", "/metrics", "").status == 401);
  router.setAuthentication(&store, true);  // DRAY_METRICS_PUBLIC=1
  CHECK(call(router, "GET", "/metrics", "").status == 200);
  std::string caller;
  call(router, "GET", "/jobs", kUserToken, &caller);
  CHECK(caller == "ci");
}

TEST_CASE("without tokens every route is open, as in the original", "[api][auth]") {
  Router router = routerWithEveryRoute();
  for (const auto& row : routeAccessTable()) {
    CHECK(call(router, row.method, concrete(row.pattern, "THEIRS"), "").status == 200);
  }
}

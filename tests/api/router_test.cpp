#include "api/router.hpp"

#include <catch2/catch.hpp>

#include "dray/sdk/errors.hpp"

using dray::api::Access;
using dray::api::HttpError;
using dray::api::PathParams;
using dray::api::Request;
using dray::api::Response;
using dray::api::RouteAccess;
using dray::api::Router;

namespace {

// The role table of these made-up routes (a route must have a row to be added).
std::vector<RouteAccess> testTable() {
  return {{"GET", "/jobs", Access::kRead, false},     {"POST", "/jobs", Access::kWrite, false},
          {"GET", "/jobs/{id}", Access::kRead, true}, {"GET", "/jobs/{id}/log", Access::kRead, true},
          {"GET", "/boom", Access::kRead, false},     {"GET", "/storage", Access::kRead, false},
          {"GET", "/teapot", Access::kRead, false}};
}

Router makeRouter() {
  Router router(testTable());
  router.add("GET", "/jobs", [](const Request&, const PathParams&) { return Response{200, "list", "text/plain", {}}; });
  router.add("POST", "/jobs", [](const Request& r, const PathParams&) {
    return Response{201, r.body, "text/plain", {}};
  });
  router.add("GET", "/jobs/{id}", [](const Request&, const PathParams& p) {
    return Response{200, "job " + p[0], "text/plain", {}};
  });
  router.add("GET", "/jobs/{id}/log", [](const Request&, const PathParams& p) {
    return Response{200, "log " + p[0], "text/plain", {}};
  });
  router.add("GET", "/boom", [](const Request&, const PathParams&) -> Response { throw std::runtime_error("kaput"); });
  router.add("GET", "/storage",
             [](const Request&, const PathParams&) -> Response { throw dray::sdk::StorageError("redis gone"); });
  router.add("GET", "/teapot",
             [](const Request&, const PathParams&) -> Response { throw HttpError(418, "short and stout"); });
  return router;
}

Response call(const Router& router, const std::string& method, const std::string& path) {
  Request request;
  request.method = method;
  request.path = path;
  request.body = "body";
  return router.dispatch(request);
}

}  // namespace

TEST_CASE("routes match literal segments and capture placeholders", "[api][router]") {
  auto router = makeRouter();
  CHECK(call(router, "GET", "/jobs").body == "list");
  CHECK(call(router, "POST", "/jobs").body == "body");
  CHECK(call(router, "GET", "/jobs/ABC").body == "job ABC");
  CHECK(call(router, "GET", "/jobs/ABC/log").body == "log ABC");
  CHECK(call(router, "GET", "/jobs/").body == "list");
}

TEST_CASE("every route also answers under a version prefix", "[api][router]") {
  auto router = makeRouter();
  CHECK(call(router, "GET", "/v1/jobs/X").body == "job X");
  CHECK(call(router, "GET", "/v42/jobs").body == "list");
  CHECK(call(router, "GET", "/vx/jobs").status == 404);
  CHECK(call(router, "GET", "/v/jobs").status == 404);
}

TEST_CASE("unknown paths are 404 and wrong methods 405 with Allow, as JSON", "[api][router]") {
  auto router = makeRouter();
  auto missing = call(router, "GET", "/nothing/here");
  CHECK(missing.status == 404);
  CHECK(missing.content_type == "application/json");
  CHECK_THAT(missing.body, Catch::StartsWith("{\"error\":"));
  auto wrong = call(router, "PUT", "/jobs");
  CHECK(wrong.status == 405);
  REQUIRE(wrong.headers.size() == 1);
  CHECK(wrong.headers[0] == std::make_pair(std::string("Allow"), std::string("GET, POST")));
  CHECK(call(router, "DELETE", "/jobs/X/log").status == 405);
}

TEST_CASE("error messages are always valid UTF-8", "[api][router]") {
  CHECK(dray::api::errorResponse(400, "unexpected byte '\xff' after \xc3").body ==
        R"({"error":"unexpected byte '?' after ?"})");
  CHECK(dray::api::errorResponse(400, "Wörter ✓").body == R"({"error":"Wörter ✓"})");
}

TEST_CASE("handler exceptions become JSON errors", "[api][router]") {
  auto router = makeRouter();
  auto boom = call(router, "GET", "/boom");
  CHECK(boom.status == 500);
  CHECK(boom.body == R"({"error":"internal error: kaput"})");
  CHECK(call(router, "GET", "/storage").status == 503);
  CHECK(call(router, "GET", "/storage").body == R"({"error":"storage unavailable: redis gone"})");
  auto teapot = call(router, "GET", "/teapot");
  CHECK(teapot.status == 418);
  CHECK(teapot.body == R"({"error":"short and stout"})");
}

TEST_CASE("a route without a row in the role table cannot be added", "[api][router]") {
  Router router(testTable());
  CHECK_THROWS_AS(router.add("GET", "/secret", [](const Request&, const PathParams&) { return Response{}; }),
                  std::logic_error);
  Router real;  // the real table
  CHECK_THROWS_AS(real.add("PUT", "/jobs", [](const Request&, const PathParams&) { return Response{}; }),
                  std::logic_error);
}

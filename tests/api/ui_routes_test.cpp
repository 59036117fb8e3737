#include "api/ui_routes.hpp"

#include <fstream>

#include <Poco/File.h>
#include <Poco/TemporaryFile.h>
#include <catch2/catch.hpp>

namespace {

using namespace dray;

// A directory of UI files, removed with the object.
struct UiDir {
  Poco::TemporaryFile dir;
  UiDir() { Poco::File(dir.path()).createDirectories(); }
  void write(const std::string& name, const std::string& body) {
    std::ofstream(dir.path() + "/" + name, std::ios::binary) << body;
  }
  std::string path() const { return dir.path(); }
};

api::Response get(const api::Router& router, const std::string& path,
                  std::vector<std::pair<std::string, std::string>> headers = {}) {
  api::Request request;
  request.method = "GET";
  request.path = path;
  request.headers = std::move(headers);
  return router.dispatch(request);
}

std::string header(const api::Response& response, const std::string& name) {
  for (const auto& [key, value] : response.headers) {
    if (key == name) return value;
  }
  return "";
}

const std::string kBrowserAccept = "text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,*/*;q=0.8";

}  // namespace

TEST_CASE("prefersHtml tells a browser's navigation from an API client", "[api][ui]") {
  CHECK(api::prefersHtml(kBrowserAccept));
  CHECK(api::prefersHtml("text/html"));
  CHECK_FALSE(api::prefersHtml(""));
  CHECK_FALSE(api::prefersHtml("*/*"));  // curl
  CHECK_FALSE(api::prefersHtml("application/json"));
  CHECK_FALSE(api::prefersHtml("application/json, text/html;q=0.5"));
  CHECK_FALSE(api::prefersHtml("text/html;q=0"));
  CHECK(api::prefersHtml("application/json;q=0.4, text/html"));
  CHECK_FALSE(api::prefersHtml("garbage;;;,=,"));
}

TEST_CASE("the UI's files are served with ETag, Cache-Control and a CSP, 304 when unchanged", "[api][ui]") {
  UiDir dir;
  dir.write("index.html", "<!doctype html><p>dray</p>");
  dir.write("app.js", "export {};");
  dir.write("CMakeLists.txt", "# not served");
  dir.write(".hidden.js", "not served");
  api::Router router;
  auto assets = std::make_shared<const api::UiAssets>(api::UiAssets::load(dir.path()));
  CHECK(assets->size() == 2);
  api::addUiRoutes(router, assets);

  auto script = get(router, "/ui/app.js");
  CHECK(script.status == 200);
  CHECK(script.body == "export {};");
  CHECK(script.content_type == "text/javascript; charset=utf-8");
  const std::string etag = header(script, "ETag");
  CHECK_THAT(etag, Catch::Matches(R"("[0-9a-f]{20}")"));
  CHECK(header(script, "Cache-Control") == "no-cache");
  const std::string csp = header(script, "Content-Security-Policy");
  CHECK_THAT(csp, Catch::Contains("script-src 'self'"));
  CHECK_THAT(csp, Catch::Contains("default-src 'none'"));
  CHECK(csp.find("unsafe-inline") == std::string::npos);
  CHECK(header(script, "X-Content-Type-Options") == "nosniff");

  auto again = get(router, "/ui/app.js", {{"If-None-Match", "\"other\", " + etag}});
  CHECK(again.status == 304);
  CHECK(again.body.empty());
  CHECK(header(again, "ETag") == etag);
  CHECK(get(router, "/ui/app.js", {{"If-None-Match", "W/" + etag}}).status == 304);
  CHECK(get(router, "/ui/app.js", {{"If-None-Match", "\"other\""}}).status == 200);

  auto index = get(router, "/ui/");
  CHECK(index.status == 200);
  CHECK(index.content_type == "text/html; charset=utf-8");
  CHECK(get(router, "/v1/ui/").body == index.body);
  auto bare = get(router, "/ui");
  CHECK(bare.status == 301);
  CHECK(header(bare, "Location") == "/ui/");
  CHECK(header(get(router, "//ui"), "Location") == "/ui/");  // never "//ui/": another host to a browser
  CHECK(get(router, "/ui/CMakeLists.txt").status == 404);
  CHECK(get(router, "/ui/.hidden.js").status == 404);
  CHECK(get(router, "/ui/missing.js").status == 404);
  CHECK(get(router, "/ui/..%2Fsecret").status == 404);
}

TEST_CASE("GET / sends browsers to the UI and answers API clients as before", "[api][ui]") {
  UiDir dir;
  dir.write("index.html", "<!doctype html>");
  api::Router router;
  api::addUiRoutes(router, std::make_shared<const api::UiAssets>(api::UiAssets::load(dir.path())));
  auto browser = get(router, "/", {{"Accept", kBrowserAccept}});
  CHECK(browser.status == 302);
  CHECK(header(browser, "Location") == "/ui/");
  auto client = get(router, "/", {{"Accept", "*/*"}});
  CHECK(client.status == 404);
  CHECK(client.body == R"({"error":"no such endpoint: GET /"})");

  api::Router without_ui;
  api::addUiRoutes(without_ui, std::make_shared<const api::UiAssets>(api::UiAssets::load("/no/such/dir")));
  CHECK(get(without_ui, "/", {{"Accept", kBrowserAccept}}).status == 404);
  CHECK(get(without_ui, "/ui/").status == 404);
}

TEST_CASE("UiAssets refuses a file of unknown type and a UI over its size limit", "[api][ui]") {
  UiDir dir;
  dir.write("index.html", std::string(600, 'x'));
  dir.write("app.js", std::string(600, 'y'));
  CHECK_THROWS_WITH(api::UiAssets::load(dir.path(), 1000), Catch::Contains("is over 1000 bytes"));
  CHECK(api::UiAssets::load(dir.path(), 1200).size() == 2);
  dir.write("tool.exe", "MZ");
  CHECK_THROWS_WITH(api::UiAssets::load(dir.path()), Catch::Contains("'tool.exe' has no known content type"));
}

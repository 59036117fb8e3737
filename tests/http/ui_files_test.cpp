// The web UI's files from the real dray binary: found next to it by default, public with
// authentication on (they hold no data), and absent when DRAY_UI_DIR names no UI.
#include <catch2/catch.hpp>

#include "tests/support/test_support.hpp"

namespace {

using dray::test::DrayProcess;
using dray::test::httpRequest;

const std::map<std::string, std::string> kBrowser = {
    {"Accept", "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"}};

}  // namespace

TEST_CASE("dray serves its UI from share/dray/ui next to bin/dray without a token", "[http][ui]") {
  DrayProcess dray(dray::test::EnvMap{{"DRAY_TOKEN", "ui-files-token-0123456789"}});
  auto index = dray.get("/ui/");
  CHECK(index.status == 200);
  CHECK_THAT(index.body, Catch::Contains(R"(<script type="module" src="app.js">)"));
  CHECK_THAT(index.headers["Content-Security-Policy"], Catch::Contains("script-src 'self'"));
  for (const char* file :
       {"app.js", "api.js", "jobs.js", "job.js", "submit.js", "system.js", "style.css", "icon.svg"}) {
    INFO(file);
    CHECK(dray.get(std::string("/ui/") + file).status == 200);
  }
  auto redirect = httpRequest(dray.port(), "GET", "/", "", kBrowser);
  CHECK(redirect.status == 302);
  CHECK(redirect.headers["Location"] == "/ui/");
  // The data still needs the token.
  CHECK(dray.get("/jobs").status == 401);
  CHECK(dray.get("/jobs/0/definition").status == 401);
  CHECK(
      httpRequest(dray.port(), "GET", "/jobs/0/definition", "", {{"Authorization", "Bearer ui-files-token-0123456789"}})
          .status == 404);
  CHECK_THAT(dray.log(), Catch::Contains("web UI: "));
}

TEST_CASE("DRAY_UI_DIR without a UI leaves / and /ui/ answering 404", "[http][ui]") {
  DrayProcess dray(dray::test::EnvMap{{"DRAY_UI_DIR", "/nonexistent/dray-ui"}});
  CHECK(dray.get("/ui/").status == 404);
  CHECK(httpRequest(dray.port(), "GET", "/", "", kBrowser).status == 404);
  CHECK_THAT(dray.log(), Catch::Contains("web UI: none (/nonexistent/dray-ui has no files; DRAY_UI_DIR)"));
}

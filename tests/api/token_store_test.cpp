#include "api/token_store.hpp"

#include <sys/stat.h>

#include <fstream>

#include <catch2/catch.hpp>

#include "tests/support/test_support.hpp"

using namespace dray::api;

namespace {

std::string writeFile(const dray::test::TempDir& dir, const std::string& text, mode_t mode) {
  std::string path = dir.path() + "/tokens";
  std::ofstream(path) << text;
  ::chmod(path.c_str(), mode);
  return path;
}

std::string loadError(const std::string& token, const std::string& file) {
  try {
    TokenStore::load(token, file);
  } catch (const std::invalid_argument& e) {
    return e.what();
  }
  return "";
}

}  // namespace

TEST_CASE("tokens from DRAY_TOKEN and a tokens file carry names and roles", "[api][auth]") {
  dray::test::TempDir dir;
  auto file = writeFile(dir,
                        "# team tokens\n\n"
                        "ci      user  ci-token-0123456789abcdef\n"
                        "grafana read  read-token-0123456789abcdef   \n"
                        "ops     admin ops-token-0123456789abcdef\n",
                        0400);
  auto store = TokenStore::load("single-token-0123456789", file);
  CHECK(store.enabled());
  CHECK(store.size() == 4);
  CHECK(store.find("single-token-0123456789")->name == "default");
  CHECK(store.find("single-token-0123456789")->role == Role::kAdmin);
  CHECK(store.find("ci-token-0123456789abcdef")->role == Role::kUser);
  CHECK(store.find("read-token-0123456789abcdef")->name == "grafana");
  CHECK_FALSE(store.find("ci-token-0123456789abcde"));    // one character short
  CHECK_FALSE(store.find("ci-token-0123456789abcdeff"));  // one too many
  CHECK_FALSE(store.find(""));
  CHECK_FALSE(TokenStore::load("", "").enabled());
}

TEST_CASE("a bad tokens file stops start-up without quoting a token", "[api][auth]") {
  dray::test::TempDir dir;
  const std::string secret = "very-secret-token-0123456789";
  CHECK_THAT(loadError("", writeFile(dir, "ci user " + secret + "\n", 0644)), Catch::Contains("mode 0644"));
  CHECK_THAT(loadError("", writeFile(dir, "ci user " + secret + "\n", 0440)), Catch::Contains("others than its owner"));
  CHECK_THAT(loadError("", writeFile(dir, "ci boss " + secret + "\n", 0600)),
             Catch::Contains("role must be") && Catch::Contains("'boss'"));
  // Role and token swapped: the token lands in the role column and must not be quoted.
  CHECK_THAT(loadError("", writeFile(dir, "ci " + secret + " user\n", 0600)),
             Catch::Contains("role must be") && Catch::Contains("28-character") && !Catch::Contains(secret));
  CHECK_THAT(loadError("", writeFile(dir, "ci user\n", 0600)), Catch::Contains("line 1: expected 'name role token'"));
  CHECK_THAT(loadError("", writeFile(dir, "ci user " + secret + " extra\n", 0600)), Catch::Contains("expected"));
  CHECK_THAT(loadError("", writeFile(dir, "ci user short\n", 0600)), Catch::Contains("shorter than 16"));
  CHECK_THAT(loadError("", writeFile(dir, "a user " + secret + "\nb read " + secret + "\n", 0600)),
             Catch::Contains("line 2: the same token"));
  CHECK_THAT(loadError("", writeFile(dir, "a user " + secret + "\na read x" + secret + "\n", 0600)),
             Catch::Contains("used twice"));
  CHECK_THAT(loadError("", writeFile(dir, "# nothing\n", 0600)), Catch::Contains("holds no token"));
  CHECK_THAT(loadError("", dir.path() + "/missing"), Catch::Contains("cannot be read"));
  CHECK_THAT(loadError("short", ""), Catch::Contains("DRAY_TOKEN: the token is shorter"));
  for (const auto& message : {loadError("", writeFile(dir, "ci user " + secret + "\n", 0644)),
                              loadError("", writeFile(dir, "a user " + secret + "\nb read " + secret + "\n", 0600))}) {
    CHECK_THAT(message, !Catch::Contains(secret));
  }
}

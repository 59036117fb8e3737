#include "core/config.hpp"

#include <cstdlib>

#include <catch2/catch.hpp>

#include "core/spdlog_logger.hpp"

using dray::core::loadConfig;

namespace {

struct EnvGuard {
  std::vector<std::string> names;
  void set(const std::string& name, const std::string& value) {
    ::setenv(name.c_str(), value.c_str(), 1);
    names.push_back(name);
  }
  ~EnvGuard() {
    for (const auto& n : names) ::unsetenv(n.c_str());
  }
};

}  // namespace

TEST_CASE("defaults: port 3000, memory storage, docker runtime", "[core][config]") {
  const char* argv[] = {"dray"};
  auto config = loadConfig(1, argv, "/opt/plugins");
  CHECK(config.port == 3000);
  CHECK(config.storage == "memory");
  CHECK(config.runtime == "docker");
  CHECK(config.plugin_dirs == std::vector<std::string>{"/opt/plugins"});
}

TEST_CASE("environment and -p override the defaults", "[core][config]") {
  EnvGuard env;
  env.set("DRAY_WORKERS", "8");
  env.set("DRAY_PLUGIN_PATH", "/a::/b");
  env.set("REDIS_PORT", "tcp://127.0.0.1:6379");
  const char* argv[] = {"dray", "-p", "8080"};
  auto config = loadConfig(3, argv, "/opt/plugins");
  CHECK(config.port == 8080);
  CHECK(config.workers == 8);
  CHECK(config.storage == "redis");  // a link-style REDIS_PORT selects Redis, as in the original
  CHECK(config.plugin_dirs == std::vector<std::string>{"/a", "/b"});
}

TEST_CASE("bad settings are refused with their name", "[core][config]") {
  EnvGuard env;
  const char* argv[] = {"dray", "-p", "99999"};
  CHECK_THROWS_WITH(loadConfig(3, argv, ""), Catch::Contains("port must be a whole number"));
  const char* unknown[] = {"dray", "--bogus"};
  CHECK_THROWS_WITH(loadConfig(2, unknown, ""), Catch::Contains("unknown argument '--bogus'"));
  env.set("DRAY_WORKERS", "0");
  CHECK_THROWS_WITH(loadConfig(1, argv, ""), Catch::Contains("DRAY_WORKERS"));
  env.set("DRAY_WORKERS", "2");
  env.set("DRAY_QUEUE", "0");
  CHECK_THROWS_WITH(loadConfig(1, argv, ""), Catch::Contains("DRAY_QUEUE must be a whole number from 1"));
  env.set("DRAY_QUEUE", "10");
  env.set("DRAY_STEP_TIMEOUT", "-1");
  CHECK_THROWS_WITH(loadConfig(1, argv, ""), Catch::Contains("DRAY_STEP_TIMEOUT"));
  env.set("DRAY_STEP_TIMEOUT", "2.5");
  env.set("DRAY_INSTANCE", "a=b");
  CHECK_THROWS_WITH(loadConfig(1, argv, ""), Catch::Contains("DRAY_INSTANCE"));
  CHECK_THROWS_WITH(dray::core::configureLogging("loud"), Catch::Contains("LOG_LEVEL must be one of"));
  CHECK_NOTHROW(dray::core::configureLogging("panic"));
  CHECK_NOTHROW(dray::core::configureLogging("info"));
}

TEST_CASE("DRAY_JOB_LOG_LIMIT: 64 MiB by default, a whole number of bytes", "[core][config]") {
  EnvGuard env;
  const char* argv[] = {"dray"};
  CHECK(loadConfig(1, argv, "").job_log_limit == 64u << 20);
  env.set("DRAY_JOB_LOG_LIMIT", "1000");
  CHECK(loadConfig(1, argv, "").job_log_limit == 1000);
  env.set("DRAY_JOB_LOG_LIMIT", "lots");
  CHECK_THROWS_WITH(loadConfig(1, argv, ""), Catch::Contains("DRAY_JOB_LOG_LIMIT"));
}

TEST_CASE("DRAY_ALLOWED_IMAGES: comma-separated patterns, a malformed one stops start-up", "[core][config][image]") {
  const char* argv[] = {"dray"};
  CHECK(loadConfig(1, argv, "/p").allowed_images.empty());  // unset: any image
  EnvGuard env;
  env.set("DRAY_ALLOWED_IMAGES", " dray-test/* ,, busybox:1.*,ghcr.io/team/** ");
  CHECK(loadConfig(1, argv, "/p").allowed_images ==
        std::vector<std::string>{"dray-test/*", "busybox:1.*", "ghcr.io/team/**"});
  env.set("DRAY_ALLOWED_IMAGES", "dray-test/*,Busybox");
  try {
    loadConfig(1, argv, "/p");
    FAIL("a malformed pattern was accepted");
  } catch (const std::invalid_argument& e) {
    CHECK_THAT(e.what(),
               Catch::Contains("DRAY_ALLOWED_IMAGES") && Catch::Contains("'Busybox'") && Catch::Contains("upper-case"));
  }
  CHECK_THAT(dray::core::usage(), Catch::Contains("DRAY_ALLOWED_IMAGES"));
}

TEST_CASE("usage names every security setting", "[core][config]") {
  for (const char* name : {"DRAY_LISTEN", "DRAY_TOKEN", "DRAY_TOKENS_FILE", "DRAY_METRICS_PUBLIC", "DRAY_TLS_CERT",
                           "DRAY_TLS_KEY", "DRAY_TLS_CLIENT_CA", "DRAY_ALLOWED_IMAGES", "DRAY_MAX_CONNECTIONS_PER_IP",
                           "DRAY_MAX_CONNECTIONS", "DRAY_HEADER_TIMEOUT", "DRAY_BODY_TIMEOUT", "DRAY_IDLE_TIMEOUT",
                           "DRAY_MAX_HEADER_BYTES", "DRAY_MAX_HEADER_FIELDS", "docs/security.md"}) {
    CHECK_THAT(dray::core::usage(), Catch::Contains(name));
  }
}

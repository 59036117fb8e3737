#include "api/health_routes.hpp"

#include <Poco/JSON/Object.h>

#include "dray/sdk/version.hpp"

namespace dray::api {
namespace {

Poco::JSON::Object describe(const sdk::HealthReport& report) {
  Poco::JSON::Object object(Poco::JSON_PRESERVE_KEY_ORDER);
  object.set("ok", report.ok);
  object.set("detail", report.detail);
  return object;
}

}  // namespace

void addHealthRoutes(Router& router, sdk::Storage& storage, sdk::Runtime& runtime, core::JobRunner& runner) {
  router.add("GET", "/healthz", [&storage, &runtime, &runner](const Request&, const PathParams&) {
    sdk::HealthReport engine = runtime.checkHealth();
    sdk::HealthReport store = storage.checkHealth();
    const bool ok = engine.ok && store.ok;
    Poco::JSON::Object body(Poco::JSON_PRESERVE_KEY_ORDER);
    body.set("status", ok ? "ok" : "unavailable");
    body.set("version", sdk::kSdkVersion);
    body.set("engine", describe(engine));
    body.set("storage", describe(store));
    body.set("workers", runner.workers());
    body.set("running", static_cast<Poco::UInt64>(runner.running()));
    body.set("queued", static_cast<Poco::UInt64>(runner.queued()));
    return jsonResponse(ok ? 200 : 503, body);
  });
}

}  // namespace dray::api

#include "api/plugin_routes.hpp"

#include <sstream>

#include <Poco/JSON/Array.h>
#include <Poco/JSON/Object.h>

namespace dray::api {
namespace {

std::string describe(const std::vector<core::PluginInfo>& plugins) {
  Poco::JSON::Array list;
  for (const auto& plugin : plugins) {
    Poco::JSON::Object entry(Poco::JSON_PRESERVE_KEY_ORDER);
    entry.set("kind", core::kindName(plugin.kind));
    entry.set("name", plugin.name);
    entry.set("version", plugin.version);
    entry.set("summary", plugin.summary);
    entry.set("file", plugin.file);
    Poco::JSON::Array options;
    for (const auto& option : plugin.options) {
      Poco::JSON::Object described(Poco::JSON_PRESERVE_KEY_ORDER);
      described.set("name", option.name);
      described.set("default", option.default_value);
      described.set("help", option.help);
      if (!option.env.empty()) described.set("env", option.env);
      options.add(described);
    }
    entry.set("options", options);
    list.add(entry);
  }
  std::ostringstream out;
  list.stringify(out);
  return out.str();
}

}  // namespace

void addPluginRoutes(Router& router, std::vector<core::PluginInfo> plugins) {
  // The set never changes after start-up: render it once.
  router.add("GET", "/plugins", [body = describe(plugins)](const Request&, const PathParams&) {
    return Response{200, body, "application/json", {}};
  });
}

}  // namespace dray::api

#include "api/node_routes.hpp"

#include <algorithm>

#include <Poco/JSON/Array.h>
#include <Poco/JSON/Parser.h>

namespace dray::api {
namespace {

Poco::JSON::Object::Ptr parseInfo(const std::string& text) {
  return Poco::JSON::Parser().parse(text).extract<Poco::JSON::Object::Ptr>();
}

Response listNodes(sdk::NodeRegistry* registry, const std::function<std::string()>& local_info) {
  std::vector<std::pair<std::string, std::string>> nodes;
  if (registry) {
    nodes = registry->list();
  } else {
    nodes.emplace_back("", local_info());
  }
  std::sort(nodes.begin(), nodes.end());
  Poco::JSON::Array answer;
  for (const auto& [name, info] : nodes) {
    try {
      answer.add(parseInfo(info));
    } catch (const std::exception&) {
      // Not a dray node's info (a foreign key under our prefix): not listed.
    }
  }
  return jsonResponse(200, answer);
}

}  // namespace

void addNodeRoutes(Router& router, sdk::NodeRegistry* registry, std::function<std::string()> local_info) {
  router.add("GET", "/nodes", [registry, local_info = std::move(local_info)](const Request&, const PathParams&) {
    return listNodes(registry, local_info);
  });
}

}  // namespace dray::api

#pragma once

#include <vector>

#include "api/router.hpp"
#include "core/plugin_loader.hpp"

namespace dray::api {

/// GET /plugins: every loaded plugin with kind, name, version, summary, file and options.
void addPluginRoutes(Router& router, std::vector<core::PluginInfo> plugins);

}  // namespace dray::api

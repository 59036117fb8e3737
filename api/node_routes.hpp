#pragma once

#include <functional>
#include <string>

#include "api/router.hpp"
#include "dray/sdk/nodes.hpp"

namespace dray::api {

/// GET /nodes: every live node sharing this storage (name, engine, workers, running and
/// queued jobs, last heartbeat, version), sorted by name; with a storage of one process
/// (`registry` null), this node alone, from `local_info` (its JSON).
void addNodeRoutes(Router& router, sdk::NodeRegistry* registry, std::function<std::string()> local_info);

}  // namespace dray::api

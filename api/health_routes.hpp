#pragma once

#include "api/router.hpp"
#include "core/job_runner.hpp"
#include "dray/sdk/runtime.hpp"
#include "dray/sdk/storage.hpp"

namespace dray::api {

/// GET /healthz: engine and storage reachability plus runner load; 200 when both are
/// reachable, 503 otherwise. All references must outlive the router.
void addHealthRoutes(Router& router, sdk::Storage& storage, sdk::Runtime& runtime, core::JobRunner& runner);

}  // namespace dray::api

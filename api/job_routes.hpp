#pragma once

#include "api/router.hpp"
#include "core/job_runner.hpp"
#include "core/job_service.hpp"
#include "core/job_watch.hpp"

namespace dray::api {

/// Registers the original Dray routes (POST/GET /jobs, GET/DELETE /jobs/{id},
/// GET /jobs/{id}/log), POST /jobs/{id}/cancel and GET /jobs/{id}/output; GET /jobs/{id}
/// takes `wait` (long-poll, see event_routes.hpp). The references must outlive the router.
void addJobRoutes(Router& router, core::JobService& service, core::JobRunner& runner, core::JobWatch& watch);

}  // namespace dray::api

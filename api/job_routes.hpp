#pragma once

#include "job_runner.hpp"
#include "job_service.hpp"
#include "router.hpp"

namespace dray::api {

/// Registers the original Dray routes (POST/GET /jobs, GET/DELETE /jobs/{id},
/// GET /jobs/{id}/log) and POST /jobs/{id}/cancel. Both references must outlive the router.
void addJobRoutes(Router& router, core::JobService& service, core::JobRunner& runner);

}  // namespace dray::api

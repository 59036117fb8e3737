#pragma once

#include "api/router.hpp"
#include "core/job_runner.hpp"
#include "core/job_service.hpp"

namespace dray::api {

/// Registers the original Dray routes (POST/GET /jobs, GET/DELETE /jobs/{id},
/// GET /jobs/{id}/log) and POST /jobs/{id}/cancel. Both references must outlive the router.
void addJobRoutes(Router& router, core::JobService& service, core::JobRunner& runner);

}  // namespace dray::api

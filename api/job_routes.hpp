#pragma once

#include "job_service.hpp"
#include "router.hpp"

namespace dray::api {

/// Registers the original Dray routes: POST/GET /jobs, GET/DELETE /jobs/{id},
/// GET /jobs/{id}/log. `service` must outlive the router.
void addJobRoutes(Router& router, core::JobService& service);

}  // namespace dray::api

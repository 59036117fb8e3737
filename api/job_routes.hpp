#pragma once

#include "api/router.hpp"
#include "core/job_runner.hpp"
#include "core/job_service.hpp"
#include "core/job_watch.hpp"

namespace dray::api {

/// Registers the original Dray routes (POST/GET /jobs, GET/DELETE /jobs/{id},
/// GET /jobs/{id}/log), POST /jobs/{id}/cancel and GET /jobs/{id}/output; GET /jobs/{id}
/// takes `wait` (long-poll, see event_routes.hpp). GET /jobs with `limit`, `before` or
/// `status` answers a page of job summaries, newest first, and `next` (the original's
/// plain list otherwise). The references must outlive the router.
/// The `status` query parameter (queued, running, complete, error or canceled), "" when
/// absent; throws HttpError 400 for another value.
std::string stateFilter(const Request& request);

/// Whether `caller` may see the job: a user token sees only the jobs it created.
bool visibleTo(const Caller& caller, const core::JobView& job);

void addJobRoutes(Router& router, core::JobService& service, core::JobRunner& runner, core::JobWatch& watch);

}  // namespace dray::api

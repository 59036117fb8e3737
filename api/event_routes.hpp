#pragma once

#include "api/router.hpp"
#include "core/job_service.hpp"
#include "core/job_watch.hpp"

namespace dray::api {

/// Live events (Server-Sent Events) and the long-poll:
///  - GET /jobs/{id}/events: the job's `state`, `step` and `log` events in the order they
///    happened, then `end` (the final record) and the stream closes. A `log` event's id is
///    the line's index, so a reconnect with Last-Event-ID resumes after it. A client that
///    comes after the end gets the whole history.
///  - GET /events[?status=S]: `state` events of every job (S: queued, running, complete,
///    error or canceled).
///  - GET /jobs/{id}?wait=SECONDS (<= 300): answers when the job has ended, or after
///    SECONDS with the record as it is then.
/// Followers wait without a thread: they wake on storage change notices (JobWatch).
void addEventRoutes(Router& router, core::JobService& service, core::JobWatch& watch);

/// GET /jobs/{id} with or without `wait`.
Response getJobMaybeWaiting(core::JobService& service, core::JobWatch& watch, const std::string& id,
                            const Request& request);

}  // namespace dray::api

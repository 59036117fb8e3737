#pragma once

#include <functional>

#include "api/router.hpp"
#include "core/job_runner.hpp"
#include "core/job_watch.hpp"
#include "core/webhook_sender.hpp"
#include "dray/sdk/runtime.hpp"

namespace dray::api {

/// GET /metrics in the Prometheus text format (version 0.0.4): jobs by status, steps,
/// step duration histogram, log lines, engine errors, running and queued jobs, containers
/// the engine would not remove yet.
/// With `shared_queue_depth` (several nodes on one storage) also `dray_shared_queue_depth`:
/// jobs waiting for any node.
void addMetricsRoutes(Router& router, core::JobRunner& runner, const sdk::Runtime& runtime,
                      const core::WebhookSender& webhooks, const core::JobWatch& watch,
                      std::function<std::size_t()> shared_queue_depth = {});

/// Webhook delivery counts and live followers, in the Prometheus text format.
std::string renderPushMetrics(const core::WebhookSender::Counts& webhooks, std::size_t pending, std::size_t followers);

/// The exposition text for a snapshot (exposed for tests).
std::string renderMetrics(const core::Metrics::Snapshot& metrics, std::size_t running, std::size_t queued,
                          unsigned workers, std::size_t unremoved = 0);

}  // namespace dray::api

#include "api/metrics_routes.hpp"

#include <sstream>

namespace dray::api {
namespace {

void family(std::ostringstream& out, const char* name, const char* type, const char* help) {
  out << "# HELP " << name << ' ' << help << "\n# TYPE " << name << ' ' << type << '\n';
}

}  // namespace

std::string renderMetrics(const core::Metrics::Snapshot& m, std::size_t running, std::size_t queued, unsigned workers,
                          std::size_t unremoved) {
  std::ostringstream out;
  family(out, "dray_jobs_finished_total", "counter", "Jobs that ended, by final status.");
  for (core::Status status : {core::Status::kComplete, core::Status::kError, core::Status::kCanceled}) {
    auto it = m.jobs_by_status.find(status);
    out << "dray_jobs_finished_total{status=\"" << core::toString(status) << "\"} "
        << (it == m.jobs_by_status.end() ? 0 : it->second) << '\n';
  }
  family(out, "dray_jobs_running", "gauge", "Jobs running now.");
  out << "dray_jobs_running " << running << '\n';
  family(out, "dray_jobs_queued", "gauge", "Jobs waiting for a worker (queue depth).");
  out << "dray_jobs_queued " << queued << '\n';
  family(out, "dray_workers", "gauge", "Jobs that can run at the same time.");
  out << "dray_workers " << workers << '\n';
  family(out, "dray_steps_total", "counter", "Steps that ended, by result.");
  out << "dray_steps_total{result=\"ok\"} " << m.steps_ok << '\n';
  out << "dray_steps_total{result=\"failed\"} " << m.steps_failed << '\n';
  family(out, "dray_step_duration_seconds", "histogram", "Wall time of steps, from image check to removal.");
  for (std::size_t i = 0; i < core::Metrics::kStepBuckets.size(); ++i) {
    out << "dray_step_duration_seconds_bucket{le=\"" << core::Metrics::kStepBuckets[i] << "\"} " << m.step_buckets[i]
        << '\n';
  }
  out << "dray_step_duration_seconds_bucket{le=\"+Inf\"} " << m.step_buckets.back() << '\n';
  out << "dray_step_duration_seconds_sum " << m.step_seconds_sum << '\n';
  out << "dray_step_duration_seconds_count " << m.step_buckets.back() << '\n';
  family(out, "dray_log_lines_total", "counter", "Container output lines written to job logs.");
  out << "dray_log_lines_total " << m.log_lines << '\n';
  family(out, "dray_engine_errors_total", "counter", "Steps that failed because of the container engine.");
  out << "dray_engine_errors_total " << m.engine_errors << '\n';
  family(out, "dray_step_retries_total", "counter", "Failed step attempts that were tried again (step retries).");
  out << "dray_step_retries_total " << m.step_retries << '\n';
  family(out, "dray_containers_unremoved", "gauge",
         "Containers the engine would not remove yet; retried in the background.");
  out << "dray_containers_unremoved " << unremoved << '\n';
  return out.str();
}

std::string renderPushMetrics(const core::WebhookSender::Counts& webhooks, std::size_t pending, std::size_t followers) {
  std::ostringstream out;
  family(out, "dray_webhook_deliveries_total", "counter", "Webhook deliveries that ended, by outcome.");
  out << "dray_webhook_deliveries_total{outcome=\"delivered\"} " << webhooks.delivered << '\n';
  out << "dray_webhook_deliveries_total{outcome=\"refused\"} " << webhooks.refused << '\n';
  out << "dray_webhook_deliveries_total{outcome=\"failed\"} " << webhooks.failed << '\n';
  out << "dray_webhook_deliveries_total{outcome=\"undeliverable\"} " << webhooks.undeliverable << '\n';
  family(out, "dray_webhook_retries_total", "counter", "Webhook attempts that failed and will be tried again.");
  out << "dray_webhook_retries_total " << webhooks.retried << '\n';
  family(out, "dray_webhook_pending", "gauge", "Webhook deliveries waiting or in flight.");
  out << "dray_webhook_pending " << pending << '\n';
  family(out, "dray_event_followers", "gauge", "Live event streams and long-polls open now.");
  out << "dray_event_followers " << followers << '\n';
  return out.str();
}

void addMetricsRoutes(Router& router, core::JobRunner& runner, const sdk::Runtime& runtime,
                      const core::WebhookSender& webhooks, const core::JobWatch& watch,
                      std::function<std::size_t()> shared_queue_depth) {
  router.add(
      "GET", "/metrics", [&runner, &runtime, &webhooks, &watch, shared_queue_depth](const Request&, const PathParams&) {
        std::string text = renderMetrics(runner.metrics().snapshot(), runner.running(), runner.queued(),
                                         runner.workers(), runtime.unremovedContainers()) +
                           renderPushMetrics(webhooks.counts(), webhooks.pending(), watch.watchers());
        if (shared_queue_depth) {
          std::ostringstream out;
          family(out, "dray_shared_queue_depth", "gauge", "Jobs in the nodes' shared queue that no node took yet.");
          out << "dray_shared_queue_depth " << shared_queue_depth() << '\n';
          text += out.str();
        }
        return Response{200, std::move(text), "text/plain; version=0.0.4", {}};
      });
}

}  // namespace dray::api

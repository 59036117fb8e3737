#include "core/job_service.hpp"

#include <Poco/String.h>
#include <Poco/UUIDGenerator.h>
#include <spdlog/spdlog.h>

#include "core/errors.hpp"
#include "core/job_codec.hpp"
#include "core/job_resolver.hpp"
#include "core/metrics.hpp"
#include "dray/sdk/errors.hpp"

namespace dray::core {

JobService::JobService(sdk::Storage& storage, JobRunner& runner, const ChannelSet& channels, ServiceOptions options)
    : storage_(storage), runner_(runner), channels_(channels), options_(std::move(options)),
      orphans_(
          storage, [&runner](const std::string& id) { return runner.state(id).has_value(); },
          options_.write_settle_time) {}

std::string JobService::newJobId() {
  return Poco::toUpper(Poco::UUIDGenerator::defaultGenerator().createRandom().toString());
}

CreatedJob JobService::create(const std::string& body, const std::string& creator) {
  const auto accepted = std::chrono::steady_clock::now();
  DecodedJob decoded = decodeJob(body);
  const std::string id = newJobId();
  ResolvedJob resolved = resolveJob(decoded.definition, id, channels_, options_.default_step_timeout,
                                    options_.image_policy, options_.step_limits);
  resolved.accepted_at = accepted;
  if (!decoded.definition.callback_url.empty()) {
    if (std::string refusal = options_.webhook_policy.refusal(decoded.definition.callback_url); !refusal.empty())
      throw ValidationError("job.callback.url " + refusal);
    resolved.callback = WebhookTarget{decoded.definition.callback_url, decoded.definition.callback_secret};
  }
  CreatedJob created{id, encodeCreatedJob(decoded.document, id)};
  const double resolved_ms = millisecondsSince(accepted);

  // A job that carries secrets (or a callback secret) runs where it was accepted: only this
  // process holds those values. Any other goes to the nodes' shared queue, when there is one.
  const bool shared = queue_ && resolved.secrets.empty() && decoded.definition.callback_secret.empty();
  if (shared && queue_->depth() >= options_.max_shared_queue) {
    throw QueueFull(std::to_string(options_.max_shared_queue) +
                    " jobs are already waiting for a node; try again later");
  }
  sdk::JobRecord record;
  record.id = id;
  record.description = created.body;
  record.total_steps = resolved.steps.size();
  record.status = sdk::kStatusRunning;             // also while queued: the original's clients poll for it
  record.owner = shared ? "" : options_.instance;  // a shared job's owner is the node that takes it
  record.creator = creator;
  record.name = decoded.definition.name;
  record.created_at = nowRfc3339();
  for (const auto& step : resolved.steps) record.steps.push_back({step.spec.name, step.source, "pending", -1, "", ""});
  try {
    storage_.createJob(record);
  } catch (const sdk::StorageError&) {
    orphans_.watch(id);  // the answer is 503; should the record land anyway, it is ended
    throw;
  }
  const double stored_ms = millisecondsSince(accepted);
  try {
    // A shared job entered the nodes' queue with its record (Storage::createJob).
    if (!shared) runner_.submit(std::move(resolved));
  } catch (...) {
    try {
      storage_.deleteJob(id);  // never leave a record that no worker will finish
    } catch (const sdk::StorageError&) {
      orphans_.watch(id);
    }
    throw;
  }
  // Where the time between createdAt and startedAt goes (LOG_LEVEL=debug), per phase.
  spdlog::debug(
      "job {}: accepted: decoded and resolved after {:.2f} ms, stored after {:.2f} ms, queued after {:.2f} ms", id,
      resolved_ms, stored_ms, millisecondsSince(accepted));
  return created;
}

std::optional<JobView> JobService::find(const std::string& id) {
  auto record = storage_.getJob(id);
  if (!record) return std::nullopt;
  JobView view{*record, record->status};
  // A final status in storage is the last word: the runner lets go of a job just after it.
  if (auto state = runner_.state(id); state && !isFinal(record->status)) {
    view.state = std::string(toString(*state));
  } else if (record->status == sdk::kStatusRunning && record->owner.empty() && !record->description.empty()) {
    view.state = "queued";  // ours (it has a description), waiting in the shared queue for a node
  }
  return view;
}

CancelOutcome JobService::cancel(const std::string& id) {
  // The runner first: canceling a job it holds needs no storage (which may be away).
  if (runner_.cancel(id)) return CancelOutcome::kCanceled;
  if (queue_ && queue_->cancel(id)) return CancelOutcome::kCanceled;  // waiting, or on another node
  return storage_.getJob(id) ? CancelOutcome::kAlreadyFinished : CancelOutcome::kUnknownJob;
}

bool JobService::remove(const std::string& id) {
  if (runner_.cancel(id)) {
    runner_.waitUntilInactive(id, std::chrono::seconds(30));
  } else if (queue_ && queue_->cancel(id)) {
    // Another node runs it: wait (as for a local job) until it has ended there.
    const auto give_up = std::chrono::steady_clock::now() + std::chrono::seconds(30);
    while (std::chrono::steady_clock::now() < give_up) {
      auto record = storage_.getJob(id);
      if (!record || isFinal(record->status)) break;
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
  }
  return storage_.deleteJob(id);
}

ResolvedJob JobService::resolveStored(const sdk::JobRecord& record) const {
  DecodedJob decoded = decodeJob(record.description);
  ResolvedJob resolved = resolveJob(decoded.definition, record.id, channels_, options_.default_step_timeout,
                                    options_.image_policy, options_.step_limits);
  resolved.accepted_at = std::chrono::steady_clock::now();
  if (!decoded.definition.callback_url.empty()) {
    if (std::string refusal = options_.webhook_policy.refusal(decoded.definition.callback_url); !refusal.empty())
      throw ValidationError("job.callback.url " + refusal);
    resolved.callback = WebhookTarget{decoded.definition.callback_url, ""};
  }
  return resolved;
}

std::optional<std::vector<std::string>> JobService::log(const std::string& id, std::size_t from,
                                                        std::size_t max_lines) {
  // Lines only exist for an existing job: look the job up only when the page is empty.
  auto lines = storage_.readLog(id, from, max_lines);
  if (lines.empty() && !storage_.getJob(id)) return std::nullopt;
  return lines;
}

}  // namespace dray::core

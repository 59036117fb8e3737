#include "core/job_json.hpp"

#include <Poco/JSON/Array.h>
#include <Poco/NumberParser.h>

#include "core/job_state.hpp"

namespace dray::core {

namespace {

void setStepFields(Poco::JSON::Object& entry, const sdk::StepRecord& step) {
  entry.set("name", step.name);
  entry.set("image", step.image);
  entry.set("state", step.state);
  if (step.exit_code >= 0) entry.set("exitCode", step.exit_code);
  entry.set("startedAt", step.started_at);
  entry.set("finishedAt", step.finished_at);
}

}  // namespace

Poco::JSON::Object jobObject(const JobView& job) {
  const sdk::JobRecord& record = job.record;
  Poco::JSON::Object body(Poco::JSON_PRESERVE_KEY_ORDER);
  body.set("id", record.id);
  body.set("stepsCompleted", static_cast<Poco::UInt64>(record.completed_steps));
  body.set("status", record.status);
  // Everything after the original's three fields is additive.
  body.set("state", job.state);
  body.set("totalSteps", static_cast<Poco::UInt64>(record.total_steps));
  body.set("name", record.name);
  body.set("createdAt", record.created_at);
  body.set("startedAt", record.started_at);
  body.set("finishedAt", record.finished_at);
  if (!record.finished_in.empty()) {
    // The fork's field: a decimal number of seconds, as a JSON number.
    double seconds = 0;
    if (Poco::NumberParser::tryParseFloat(record.finished_in, seconds)) body.set("finishedIn", seconds);
  }
  if (!record.creator.empty()) body.set("creator", record.creator);  // the submitting token's name
  // The node that runs (or ran) it; none yet while it waits in the nodes' shared queue.
  if (!record.owner.empty()) body.set("node", record.owner);
  Poco::JSON::Array steps;
  for (const auto& step : record.steps) {
    Poco::JSON::Object entry(Poco::JSON_PRESERVE_KEY_ORDER);
    setStepFields(entry, step);
    if (step.attempts > 0) entry.set("attempts", step.attempts);
    steps.add(entry);
  }
  body.set("steps", steps);
  if (record.callback.requested) {
    Poco::JSON::Object callback(Poco::JSON_PRESERVE_KEY_ORDER);
    callback.set("delivered", record.callback.delivered);
    callback.set("attempts", record.callback.attempts);
    if (!record.callback.last_error.empty()) callback.set("lastError", record.callback.last_error);
    body.set("callback", callback);
  }
  return body;
}

Poco::JSON::Object jobSummary(const JobView& job) {
  Poco::JSON::Object summary(Poco::JSON_PRESERVE_KEY_ORDER);
  summary.set("id", job.record.id);
  summary.set("name", job.record.name);
  summary.set("status", job.record.status);
  summary.set("state", job.state);
  summary.set("stepsCompleted", static_cast<Poco::UInt64>(job.record.completed_steps));
  summary.set("totalSteps", static_cast<Poco::UInt64>(job.record.total_steps));
  summary.set("createdAt", job.record.created_at);
  summary.set("startedAt", job.record.started_at);
  summary.set("finishedAt", job.record.finished_at);
  return summary;
}

Poco::JSON::Object stepObject(const sdk::StepRecord& step, std::size_t index) {
  Poco::JSON::Object entry(Poco::JSON_PRESERVE_KEY_ORDER);
  entry.set("index", static_cast<Poco::UInt64>(index));
  setStepFields(entry, step);
  entry.set("attempt", step.attempts);
  return entry;
}

bool hasEnded(const JobView& job) { return isFinal(job.state); }

}  // namespace dray::core

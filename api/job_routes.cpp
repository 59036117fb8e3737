#include "api/job_routes.hpp"

#include <algorithm>
#include <sstream>

#include <Poco/JSON/Array.h>
#include <Poco/JSON/Object.h>
#include <Poco/JSON/Stringifier.h>
#include <Poco/NumberParser.h>

#include "api/json_shape.hpp"
#include "core/errors.hpp"

namespace dray::api {
namespace {

using Poco::JSON::Array;
using Poco::JSON::Object;

std::size_t parseIndex(const Request& request) {
  auto it = request.query.find("index");
  if (it == request.query.end() || it->second.empty()) return 0;
  Poco::UInt64 index = 0;
  if (!Poco::NumberParser::tryParseUnsigned64(it->second, index) || it->second.front() == '+') {
    throw HttpError(400, "index must be a non-negative whole number, got '" + it->second + "'");
  }
  return static_cast<std::size_t>(index);
}

[[noreturn]] void noSuchJob(const std::string& id) { throw HttpError(404, "no such job: " + id); }

Response createJob(core::JobService& service, core::JobRunner& runner, const Request& request) {
  checkJsonShape(request.body);
  try {
    core::CreatedJob created = service.create(request.body, request.caller.name);
    Response response{201, created.body, "application/json", {}};
    response.headers.emplace_back("Location", "/jobs/" + created.id);
    return response;
  } catch (const core::ValidationError& e) {
    throw HttpError(400, e.what());
  } catch (const core::PolicyError& e) {
    throw HttpError(403, e.what());
  } catch (const core::QueueFull& e) {
    Response response = errorResponse(429, std::string("too many jobs queued: ") + e.what());
    // Roughly when a worker frees up: queued jobs per worker, at least a second.
    std::size_t wait = std::max<std::size_t>(1, runner.queued() / std::max(1u, runner.workers()));
    response.headers.emplace_back("Retry-After", std::to_string(wait));
    return response;
  }
}

Response listJobs(core::JobService& service, const Request& request) {
  Array jobs;
  for (const auto& id : service.list()) {
    if (request.caller.role == Role::kUser) {
      // A user token sees only the jobs it created.
      auto job = service.find(id);
      if (!job || job->record.creator != request.caller.name) continue;
    }
    Object entry;
    entry.set("id", id);
    jobs.add(entry);
  }
  return jsonResponse(200, jobs);
}

Response getJob(core::JobService& service, const std::string& id) {
  auto job = service.find(id);
  if (!job) noSuchJob(id);
  Object body(Poco::JSON_PRESERVE_KEY_ORDER);
  body.set("id", job->record.id);
  body.set("stepsCompleted", static_cast<Poco::UInt64>(job->record.completed_steps));
  body.set("status", job->record.status);
  // Everything after the original's three fields is additive.
  body.set("state", job->state);
  body.set("totalSteps", static_cast<Poco::UInt64>(job->record.total_steps));
  body.set("name", job->record.name);
  body.set("createdAt", job->record.created_at);
  body.set("startedAt", job->record.started_at);
  body.set("finishedAt", job->record.finished_at);
  if (!job->record.creator.empty()) body.set("creator", job->record.creator);  // the submitting token's name
  Array steps;
  for (const auto& step : job->record.steps) {
    Object entry(Poco::JSON_PRESERVE_KEY_ORDER);
    entry.set("name", step.name);
    entry.set("image", step.image);
    entry.set("state", step.state);
    if (step.exit_code >= 0) entry.set("exitCode", step.exit_code);
    entry.set("startedAt", step.started_at);
    entry.set("finishedAt", step.finished_at);
    steps.add(entry);
  }
  body.set("steps", steps);
  return jsonResponse(200, body);
}

// One response carries at most about this much JSON; clients page on with ?index=, as the
// original's API already suggests. Counted after escaping (binary output can grow 6x), so
// a huge log never balloons server memory.
constexpr std::size_t kLogPageLines = 64;  // per storage read: up to 64 lines of 64 KiB
constexpr std::size_t kMaxLogResponseBytes = 2u << 20;

Response getLog(core::JobService& service, const std::string& id, const Request& request) {
  std::size_t index = parseIndex(request);
  std::ostringstream out;
  out << "{\"lines\":[";
  bool first = true;
  for (bool full = false; !full;) {
    auto page = service.log(id, index, kLogPageLines);
    if (!page) noSuchJob(id);
    for (const auto& line : *page) {
      if (!first) out << ',';
      first = false;
      Poco::JSON::Stringifier::formatString(line, out);
      ++index;
      if (static_cast<std::size_t>(out.tellp()) >= kMaxLogResponseBytes) {
        full = true;
        break;
      }
    }
    full = full || page->size() < kLogPageLines;
  }
  out << "]}";
  return Response{200, std::move(out).str(), "application/json", {}};
}

Response cancelJob(core::JobService& service, const std::string& id) {
  switch (service.cancel(id)) {
    case core::CancelOutcome::kUnknownJob:
      noSuchJob(id);
    case core::CancelOutcome::kAlreadyFinished:
      throw HttpError(409, "job " + id + " is not queued or running");
    case core::CancelOutcome::kCanceled:
      break;
  }
  Object body(Poco::JSON_PRESERVE_KEY_ORDER);
  body.set("id", id);
  body.set("canceling", true);  // the status turns "canceled" once the container is gone
  return jsonResponse(202, body);
}

Response deleteJob(core::JobService& service, const std::string& id) {
  if (!service.remove(id)) noSuchJob(id);
  return Response{204, "", "", {}};
}

}  // namespace

void addJobRoutes(Router& router, core::JobService& service, core::JobRunner& runner) {
  router.setCreatorLookup([&service](const std::string& id) -> std::optional<std::string> {
    auto job = service.find(id);
    if (!job) return std::nullopt;
    return job->record.creator;
  });
  router.add("POST", "/jobs",
             [&service, &runner](const Request& r, const PathParams&) { return createJob(service, runner, r); });
  router.add("POST", "/jobs/{id}/cancel",
             [&service](const Request&, const PathParams& p) { return cancelJob(service, p[0]); });
  router.add("GET", "/jobs", [&service](const Request& r, const PathParams&) { return listJobs(service, r); });
  router.add("GET", "/jobs/{id}", [&service](const Request&, const PathParams& p) { return getJob(service, p[0]); });
  router.add("DELETE", "/jobs/{id}",
             [&service](const Request&, const PathParams& p) { return deleteJob(service, p[0]); });
  router.add("GET", "/jobs/{id}/log",
             [&service](const Request& r, const PathParams& p) { return getLog(service, p[0], r); });
}

}  // namespace dray::api

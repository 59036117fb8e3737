#include "api/job_routes.hpp"

#include <algorithm>
#include <cstdint>
#include <memory>
#include <optional>
#include <sstream>
#include <unordered_set>

#include <Poco/JSON/Array.h>
#include <Poco/JSON/Object.h>
#include <Poco/JSON/Stringifier.h>
#include <Poco/NumberParser.h>
#include <Poco/String.h>

#include "api/event_routes.hpp"
#include "api/json_shape.hpp"
#include "core/errors.hpp"
#include "core/job_json.hpp"

namespace dray::api {
namespace {

using Poco::JSON::Array;
using Poco::JSON::Object;

constexpr std::size_t kDefaultPageJobs = 50;  // GET /jobs?status=S without limit
constexpr std::size_t kMaxPageJobs = 1000;    // the largest page

// A whole-number query parameter in [min, max], or nullopt when absent.
std::optional<std::size_t> queryNumber(const Request& request, const std::string& name, std::size_t min,
                                       std::size_t max) {
  auto it = request.query.find(name);
  if (it == request.query.end() || it->second.empty()) return std::nullopt;
  Poco::UInt64 value = 0;
  if (!Poco::NumberParser::tryParseUnsigned64(it->second, value) || it->second.front() == '+' || value < min ||
      value > max) {
    const std::string range =
        max == SIZE_MAX ? " must be a non-negative whole number"
                        : " must be a whole number from " + std::to_string(min) + " to " + std::to_string(max);
    throw HttpError(400, name + range + ", got '" + it->second + "'");
  }
  return static_cast<std::size_t>(value);
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

// GET /jobs?limit=N[&before=ID][&status=S]: job summaries newest first, from the job before
// `before` on, and `next` (the cursor of the following page, null on the last). Reads the
// records of the jobs it shows (and of those a filter skips), never all of them.
// `name`: keeps jobs whose name contains it, ignoring case (lower-cased here).
std::string nameFilter(const Request& request) {
  const auto it = request.query.find("name");
  if (it == request.query.end()) return "";
  if (it->second.size() > 256) throw HttpError(400, "name must be at most 256 bytes");
  return Poco::toLower(it->second);
}

Response listJobPage(core::JobService& service, const Request& request) {
  const std::size_t limit = queryNumber(request, "limit", 1, kMaxPageJobs).value_or(kDefaultPageJobs);
  const std::string status = stateFilter(request);
  const std::string name = nameFilter(request);
  const std::vector<std::string> ids = service.list();  // oldest first
  std::size_t end = ids.size();
  if (auto it = request.query.find("before"); it != request.query.end() && !it->second.empty()) {
    auto at = std::find(ids.begin(), ids.end(), it->second);
    if (at == ids.end()) throw HttpError(400, "before must be the id of a listed job, got '" + it->second + "'");
    end = static_cast<std::size_t>(at - ids.begin());
  }
  Array jobs;
  Poco::Dynamic::Var next;  // null: no page after this one
  std::string last_shown;
  for (std::size_t i = end; i-- > 0;) {
    auto job = service.find(ids[i]);
    if (!job || !visibleTo(request.caller, *job) || (!status.empty() && job->state != status)) continue;
    if (!name.empty() && Poco::toLower(job->record.name).find(name) == std::string::npos) continue;
    if (jobs.size() == limit) {
      next = last_shown;
      break;
    }
    jobs.add(core::jobSummary(*job));
    last_shown = ids[i];
  }
  Object page(Poco::JSON_PRESERVE_KEY_ORDER);
  page.set("jobs", jobs);
  page.set("next", next);
  return jsonResponse(200, page);
}

Response listJobs(core::JobService& service, const Request& request) {
  if (request.query.count("limit") || request.query.count("before") || request.query.count("status") ||
      request.query.count("name"))
    return listJobPage(service, request);
  Array jobs;
  for (const auto& id : service.list()) {
    if (request.caller.role == Role::kUser) {
      auto job = service.find(id);
      if (!job || !visibleTo(request.caller, *job)) continue;
    }
    Object entry;
    entry.set("id", id);
    jobs.add(entry);
  }
  return jsonResponse(200, jobs);
}

// GET /jobs/{id}/log: every line from `index` in one answer, as the original's clients
// expect, written while it is read from storage (chunked): one page of lines at a time, so
// a log of any size costs a few hundred KiB. With `limit`, at most that many lines and
// `next`, the index to ask for next.
class LogStream final : public BodyProducer {
 public:
  static constexpr std::size_t kPageLines = 256;         // per storage read
  static constexpr std::size_t kPieceBytes = 256 << 10;  // per piece sent (escaped JSON)

  LogStream(core::JobService& service, std::string id, std::size_t index, std::optional<std::size_t> limit)
      : service_(service), id_(std::move(id)), index_(index), limit_(limit), left_(limit.value_or(SIZE_MAX)) {}

  // Reads the first page: false when the job is unknown.
  bool open() { return fetch(); }

  std::optional<std::string> next() override {
    if (finished_) return std::nullopt;
    std::string piece;
    if (!opened_) {
      piece = "{\"lines\":[";
      opened_ = true;
    }
    std::ostringstream out;
    while (static_cast<std::size_t>(out.tellp()) < kPieceBytes) {
      if (position_ == page_.size() && (at_end_ || !fetch())) break;
      if (position_ == page_.size()) break;  // the job went away while it was read
      if (!first_) out << ',';
      first_ = false;
      Poco::JSON::Stringifier::formatString(page_[position_++], out);
      ++index_;
      --left_;
    }
    piece += std::move(out).str();
    if (position_ == page_.size() && (at_end_ || left_ == 0)) {
      piece += "]";
      if (limit_) piece += ",\"next\":" + std::to_string(index_);
      piece += "}";
      finished_ = true;
    }
    return piece;
  }

 private:
  bool fetch() {
    const std::size_t want = std::min(kPageLines, left_);
    page_.clear();
    position_ = 0;
    if (want == 0) {
      at_end_ = true;
      return true;
    }
    auto page = service_.log(id_, index_, want);
    if (!page) {
      at_end_ = true;
      return false;
    }
    page_ = std::move(*page);
    at_end_ = page_.size() < want;
    return true;
  }

  core::JobService& service_;
  const std::string id_;
  std::size_t index_;
  const std::optional<std::size_t> limit_;
  std::size_t left_;  // lines still allowed by `limit`
  std::vector<std::string> page_;
  std::size_t position_ = 0;
  bool at_end_ = false;  // the page in hand is the last one
  bool opened_ = false;
  bool first_ = true;
  bool finished_ = false;
};

Response getLog(core::JobService& service, const std::string& id, const Request& request) {
  const std::size_t index = queryNumber(request, "index", 0, SIZE_MAX).value_or(0);
  const auto limit = queryNumber(request, "limit", 1, 1000000);
  auto stream = std::make_shared<LogStream>(service, id, index, limit);
  if (!stream->open()) noSuchJob(id);
  Response response{200, "", "application/json", {}};
  response.stream = std::move(stream);
  return response;
}

// GET /jobs/{id}/output: the last step's captured output as it was (the fork's output key).
Response getOutput(core::JobService& service, const std::string& id) {
  if (!service.find(id)) noSuchJob(id);
  auto output = service.output(id);
  if (!output)
    throw HttpError(404, "job " + id + " has no output (not finished, failed, empty or over DRAY_OUTPUT_LIMIT)");
  return Response{200, std::move(*output), "application/octet-stream", {}};
}

// The job as it was submitted and stored: the 201 echo, with secret values as "***".
Response getDefinition(core::JobService& service, const std::string& id) {
  auto job = service.find(id);
  if (!job) noSuchJob(id);
  if (job->record.description.empty()) throw HttpError(404, "job " + id + " has no stored definition");
  return Response{200, std::move(job->record.description), "application/json", {}};
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

std::string stateFilter(const Request& request) {
  auto it = request.query.find("status");
  if (it == request.query.end()) return "";
  static const std::unordered_set<std::string> known{"queued", "running", "complete", "error", "canceled"};
  if (!known.count(it->second))
    throw HttpError(400, "status must be queued, running, complete, error or canceled, got '" + it->second + "'");
  return it->second;
}

bool visibleTo(const Caller& caller, const core::JobView& job) {
  return caller.role != Role::kUser || job.record.creator == caller.name;
}

void addJobRoutes(Router& router, core::JobService& service, core::JobRunner& runner, core::JobWatch& watch) {
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
  router.add("GET", "/jobs/{id}", [&service, &watch](const Request& r, const PathParams& p) {
    return getJobMaybeWaiting(service, watch, p[0], r);
  });
  router.add("DELETE", "/jobs/{id}",
             [&service](const Request&, const PathParams& p) { return deleteJob(service, p[0]); });
  router.add("GET", "/jobs/{id}/log",
             [&service](const Request& r, const PathParams& p) { return getLog(service, p[0], r); });
  router.add("GET", "/jobs/{id}/output",
             [&service](const Request&, const PathParams& p) { return getOutput(service, p[0]); });
  router.add("GET", "/jobs/{id}/definition",
             [&service](const Request&, const PathParams& p) { return getDefinition(service, p[0]); });
}

}  // namespace dray::api

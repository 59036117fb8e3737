#pragma once

#include <sstream>
#include <string>

#include <Poco/JSON/Object.h>

#include "core/job_service.hpp"

namespace dray::core {

/// A job as GET /jobs/{id} shows it: the original's id, stepsCompleted and status first,
/// then our additive fields and one entry per step. Live events' `end` sends the same.
Poco::JSON::Object jobObject(const JobView& job);

/// A job in short, as `state` events and job list pages show it: id, name, status, state,
/// stepsCompleted, totalSteps, createdAt, startedAt, finishedAt.
Poco::JSON::Object jobSummary(const JobView& job);

/// A step as events show it: its index, the attempt, and the fields of the job's steps.
Poco::JSON::Object stepObject(const sdk::StepRecord& step, std::size_t index);

/// Whether a job's status is final (complete, error or canceled).
bool hasEnded(const JobView& job);

/// A JSON value as compact text.
template <typename Json>
std::string toJsonText(const Json& value) {
  std::ostringstream out;
  value.stringify(out);
  return std::move(out).str();
}

}  // namespace dray::core

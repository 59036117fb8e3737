/// Job and step states inside the core. They become strings only at the edges: when the
/// runner writes to storage and when the API answers (the SDK and the wire speak strings).
#pragma once

#include <string_view>

#include "dray/sdk/types.hpp"

namespace dray::core {

/// Where a job is inside the runner (GET /jobs/{id} "state").
enum class RunState { kQueued, kRunning };

/// The status of a job or of one step, as stored.
enum class Status { kRunning, kComplete, kError, kCanceled };

constexpr std::string_view toString(Status status) {
  switch (status) {
    case Status::kRunning:
      return sdk::kStatusRunning;
    case Status::kComplete:
      return sdk::kStatusComplete;
    case Status::kError:
      return sdk::kStatusError;
    case Status::kCanceled:
      return sdk::kStatusCanceled;
  }
  return sdk::kStatusError;
}

/// Whether a job's or a step's stored status is final (complete, error or canceled).
constexpr bool isFinal(std::string_view status) {
  return status == sdk::kStatusComplete || status == sdk::kStatusError || status == sdk::kStatusCanceled;
}

constexpr std::string_view toString(RunState state) { return state == RunState::kQueued ? "queued" : "running"; }

}  // namespace dray::core

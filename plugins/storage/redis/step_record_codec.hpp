#pragma once

#include <string>

#include "dray/sdk/types.hpp"

namespace dray::plugins::storage::redis {

/// A step record as the JSON kept in the `jobs:<id>:steps` hash.
std::string encodeStepRecord(const sdk::StepRecord& step);

/// The reverse; missing or malformed fields keep their defaults.
sdk::StepRecord decodeStepRecord(const std::string& json);

}  // namespace dray::plugins::storage::redis

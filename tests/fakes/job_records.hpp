#pragma once

// Building JobRecords in tests without spelling out every field.
#include <string>

#include "dray/sdk/types.hpp"

namespace dray::test {

/// A running job record with `steps` steps and the given description.
inline sdk::JobRecord jobRecord(const std::string& id, std::size_t steps = 1, const std::string& description = "{}") {
  sdk::JobRecord record;
  record.id = id;
  record.description = description;
  record.total_steps = steps;
  return record;
}

}  // namespace dray::test

#pragma once

#include <cstdint>
#include <string>

#include <Poco/JSON/Object.h>

#include "core/job_definition.hpp"

namespace dray::core {

/// Limits that keep a single request from exhausting the server.
inline constexpr std::size_t kMaxSteps = 256;
inline constexpr std::size_t kMaxEnvVars = 1024;
inline constexpr std::size_t kMaxStringLength = 64 * 1024;
inline constexpr double kMaxSeconds = 30 * 24 * 3600;   ///< longest timeout or deadline: 30 days
inline constexpr std::int64_t kMaxRetries = 10;         ///< most `retries` a step may ask for
inline constexpr double kDefaultRetryBackoffMax = 300;  ///< `retryBackoffMax` when absent

/// A decoded job plus the object it came from, echoed back on creation.
struct DecodedJob {
  JobDefinition definition;
  Poco::JSON::Object::Ptr document;
};

/// Parses and validates a job document. Throws ValidationError naming the first problem
/// (invalid JSON, missing or empty steps, a step without source, bad types, …).
DecodedJob decodeJob(const std::string& body);

/// The submitted document with `id` first, as POST /jobs answers.
std::string encodeCreatedJob(const Poco::JSON::Object::Ptr& document, const std::string& id);

}  // namespace dray::core

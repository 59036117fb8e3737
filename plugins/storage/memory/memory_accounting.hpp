#pragma once

#include <charconv>
#include <cstddef>
#include <string>
#include <string_view>

#include "dray/sdk/errors.hpp"
#include "dray/sdk/types.hpp"

namespace dray::plugins::storage::memory {

/// What a log line costs beyond its bytes: the std::string slot holding it (32 bytes with
/// libstdc++ on 64-bit). Core charges the same per line against DRAY_LOG_LIMIT
/// (kLogLineOverhead), so an empty line is never free.
inline constexpr std::size_t kLineOverhead = 32;

/// A record's fixed part: the entry, its two map nodes, the timestamps.
inline constexpr std::size_t kRecordOverhead = 1024;

inline std::size_t lineCost(std::string_view line) { return line.size() + kLineOverhead; }

/// An estimate, not a measurement: the description is counted twice because the steps'
/// names and images, kept apart in the step records, come from it.
inline std::size_t recordCost(const sdk::JobRecord& record) {
  return kRecordOverhead + 2 * record.id.size() + 2 * record.description.size() + record.name.size() +
         record.owner.size() + record.creator.size() + record.total_steps * sizeof(sdk::StepRecord);
}

/// Reads the `memory-limit` option: whole bytes, at least 1 MiB (one 64 KiB log line and a
/// few records must fit). Throws sdk::ConfigError naming DRAY_MEMORY_LIMIT.
inline std::size_t parseMemoryLimit(const std::string& text) {
  constexpr std::size_t kMin = 1u << 20;
  std::size_t value = 0;
  const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (text.empty() || error != std::errc() || end != text.data() + text.size() || value < kMin) {
    throw sdk::ConfigError("DRAY_MEMORY_LIMIT (memory-limit) must be a whole number of bytes, at least " +
                           std::to_string(kMin) + ", got '" + text + "'");
  }
  return value;
}

/// Reads the `max-jobs` option: finished jobs kept, 0 for no bound. Throws sdk::ConfigError
/// naming DRAY_MAX_JOBS.
inline std::size_t parseMaxJobs(const std::string& text) {
  constexpr std::size_t kMax = 1000000000;
  std::size_t value = 0;
  const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (text.empty() || error != std::errc() || end != text.data() + text.size() || value > kMax) {
    throw sdk::ConfigError("DRAY_MAX_JOBS (max-jobs) must be a whole number of finished jobs from 0 (no bound) to " +
                           std::to_string(kMax) + ", got '" + text + "'");
  }
  return value;
}

}  // namespace dray::plugins::storage::memory

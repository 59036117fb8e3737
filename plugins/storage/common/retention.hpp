#pragma once

// Retention settings both storages take, under the names the production fork gave them
// (DRAY_KEY_TTL, DRAY_REMOVE_DONE), and the parsing of their values.
#include <algorithm>
#include <cctype>
#include <charconv>
#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>

#include "dray/sdk/errors.hpp"
#include "dray/sdk/types.hpp"

namespace dray::plugins::storage {

struct Retention {
  std::chrono::seconds key_ttl{0};  ///< DRAY_KEY_TTL: > 0: a job goes this long after its last write
  bool remove_done = false;         ///< DRAY_REMOVE_DONE: a job that ended leaves the job list
};

/// The statuses after which a job never runs again. REMOVE_DONE takes all three: the fork
/// named complete and error (it had no cancel), and a canceled job has ended just the same.
inline bool hasEnded(std::string_view status) {
  return status == sdk::kStatusComplete || status == sdk::kStatusError || status == sdk::kStatusCanceled;
}

/// A whole number in [0, max]. Throws sdk::ConfigError naming the variable and the option.
inline std::uint64_t parseWholeNumber(const std::string& text, std::string_view variable, std::string_view option,
                                      std::uint64_t max) {
  std::uint64_t value = 0;
  const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (text.empty() || error != std::errc() || end != text.data() + text.size() || value > max) {
    throw sdk::ConfigError(std::string(variable) + " (" + std::string(option) + ") must be a whole number from 0 to " +
                           std::to_string(max) + ", got '" + text + "'");
  }
  return value;
}

/// DRAY_KEY_TTL: whole seconds, 0 (the default) for no expiry, at most 100 years.
inline std::chrono::seconds parseKeyTtl(const std::string& text) {
  constexpr std::uint64_t kMax = 100ull * 365 * 24 * 3600;  // far beyond any use, far below clock overflow
  return std::chrono::seconds(static_cast<std::int64_t>(parseWholeNumber(text, "DRAY_KEY_TTL", "key-ttl", kMax)));
}

/// DRAY_REMOVE_DONE: true/false as Go's ParseBool takes them (1, t, true, 0, f, false in any
/// case), also yes/no and on/off; empty is false.
inline bool parseRemoveDone(const std::string& text) {
  std::string lower(text);
  std::transform(lower.begin(), lower.end(), lower.begin(), [](unsigned char c) { return std::tolower(c); });
  for (const char* yes : {"1", "t", "true", "yes", "on"}) {
    if (lower == yes) return true;
  }
  for (const char* no : {"", "0", "f", "false", "no", "off"}) {
    if (lower == no) return false;
  }
  throw sdk::ConfigError("DRAY_REMOVE_DONE (remove-done) must be true or false, got '" + text + "'");
}

}  // namespace dray::plugins::storage

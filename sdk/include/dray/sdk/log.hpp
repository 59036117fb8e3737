/// A minimal logger that plugins use instead of linking a logging library's types.
#pragma once

#include <string_view>

#include "dray/sdk/visibility.hpp"

namespace dray::sdk {

enum class LogLevel { kDebug, kInfo, kWarn, kError };

/// Sink for human-readable messages. The host backs it with spdlog (process log) or with
/// the job log (lines prefixed "dray: " that users read through `GET /jobs/{id}/log`).
/// Thread-safe; may be called from any thread. Never throws.
class DRAY_SDK_API Logger {
 public:
  virtual ~Logger() = default;

  /// Writes one message at the given level.
  virtual void log(LogLevel level, std::string_view message) = 0;

  void debug(std::string_view m) { log(LogLevel::kDebug, m); }
  void info(std::string_view m) { log(LogLevel::kInfo, m); }
  void warn(std::string_view m) { log(LogLevel::kWarn, m); }
  void error(std::string_view m) { log(LogLevel::kError, m); }
};

}  // namespace dray::sdk

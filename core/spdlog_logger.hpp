#pragma once

#include <memory>

#include <spdlog/logger.h>

#include "dray/sdk/log.hpp"

namespace dray::core {

/// sdk::Logger backed by an spdlog logger, handed to plugin factories.
class SpdlogLogger final : public sdk::Logger {
 public:
  explicit SpdlogLogger(std::shared_ptr<spdlog::logger> logger) : logger_(std::move(logger)) {}
  void log(sdk::LogLevel level, std::string_view message) override;

 private:
  std::shared_ptr<spdlog::logger> logger_;
};

/// Sets the default spdlog logger's level from a LOG_LEVEL value ("panic", "fatal",
/// "error", "warn", "info", "debug", as the original accepted, plus "trace") and its format
/// from LOG_FORMAT: "text" (default) or "json" (one object per line: time in UTC, level,
/// message). Throws std::invalid_argument for anything else.
void configureLogging(const std::string& level, const std::string& format = "text");

}  // namespace dray::core

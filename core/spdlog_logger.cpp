#include "spdlog_logger.hpp"

#include <stdexcept>

#include <spdlog/spdlog.h>

namespace dray::core {

void SpdlogLogger::log(sdk::LogLevel level, std::string_view message) {
  switch (level) {
    case sdk::LogLevel::kDebug: logger_->debug("{}", message); break;
    case sdk::LogLevel::kInfo: logger_->info("{}", message); break;
    case sdk::LogLevel::kWarn: logger_->warn("{}", message); break;
    case sdk::LogLevel::kError: logger_->error("{}", message); break;
  }
}

void configureLogging(const std::string& level) {
  spdlog::level::level_enum parsed;
  if (level == "panic" || level == "fatal") {
    parsed = spdlog::level::critical;
  } else if (level == "error") {
    parsed = spdlog::level::err;
  } else if (level == "warn" || level == "warning") {
    parsed = spdlog::level::warn;
  } else if (level == "info" || level.empty()) {
    parsed = spdlog::level::info;
  } else if (level == "debug") {
    parsed = spdlog::level::debug;
  } else if (level == "trace") {
    parsed = spdlog::level::trace;
  } else {
    throw std::invalid_argument("LOG_LEVEL must be one of panic, fatal, error, warn, info, debug, trace; got '" + level + "'");
  }
  spdlog::set_level(parsed);
  spdlog::set_pattern("%Y-%m-%dT%H:%M:%S.%e %^%-5l%$ %v");
}

}  // namespace dray::core

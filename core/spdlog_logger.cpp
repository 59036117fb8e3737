#include "core/spdlog_logger.hpp"

#include <stdexcept>

#include <Poco/UTF8String.h>
#include <spdlog/pattern_formatter.h>
#include <spdlog/spdlog.h>

namespace dray::core {

void SpdlogLogger::log(sdk::LogLevel level, std::string_view message) {
  switch (level) {
    case sdk::LogLevel::kDebug:
      logger_->debug("{}", message);
      break;
    case sdk::LogLevel::kInfo:
      logger_->info("{}", message);
      break;
    case sdk::LogLevel::kWarn:
      logger_->warn("{}", message);
      break;
    case sdk::LogLevel::kError:
      logger_->error("{}", message);
      break;
  }
}

namespace {

// %* in a pattern: the message escaped for a JSON string.
class JsonMessageFlag final : public spdlog::custom_flag_formatter {
 public:
  void format(const spdlog::details::log_msg& msg, const std::tm&, spdlog::memory_buf_t& dest) override {
    std::string escaped = Poco::UTF8::escape(std::string(msg.payload.data(), msg.payload.size()), true);
    dest.append(escaped.data(), escaped.data() + escaped.size());
  }
  std::unique_ptr<custom_flag_formatter> clone() const override { return std::make_unique<JsonMessageFlag>(); }
};

}  // namespace

void configureLogging(const std::string& level, const std::string& format) {
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
    throw std::invalid_argument("LOG_LEVEL must be one of panic, fatal, error, warn, info, debug, trace; got '" +
                                level + "'");
  }
  spdlog::set_level(parsed);
  if (format == "json") {
    auto formatter = std::make_unique<spdlog::pattern_formatter>(spdlog::pattern_time_type::utc);
    formatter->add_flag<JsonMessageFlag>('*').set_pattern(
        R"({"time":"%Y-%m-%dT%H:%M:%S.%eZ","level":"%l","message":"%*"})");
    spdlog::set_formatter(std::move(formatter));
  } else if (format == "text" || format.empty()) {
    spdlog::set_pattern("%Y-%m-%dT%H:%M:%S.%e %^%-5l%$ %v");
  } else {
    throw std::invalid_argument("LOG_FORMAT must be text or json; got '" + format + "'");
  }
}

}  // namespace dray::core

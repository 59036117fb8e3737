#include "job_log.hpp"

#include <spdlog/spdlog.h>

namespace dray::core {

void JobLogWriter::feed(LineSplitter& splitter, std::string_view chunk) {
  splitter.feed(chunk, [this](std::string_view piece, bool ends_line) { collect(piece, ends_line); });
  commit();
}

void JobLogWriter::finish() {
  auto collector = [this](std::string_view piece, bool ends_line) { collect(piece, ends_line); };
  stdout_.finish(collector);
  stderr_.finish(collector);
  commit();
}

void JobLogWriter::collect(std::string_view piece, bool ends_line) {
  if (budget_.exhausted) return;
  if (piece.size() > budget_.remaining) {
    budget_.exhausted = true;
    batch_.push_back("dray: log limit reached; further output of this step is not logged (it is still passed on)");
    return;
  }
  budget_.remaining -= piece.size();
  ++budget_.lines_logged;
  std::string line(piece);
  if (!ends_line) line.append(kContinuedMarker);
  batch_.push_back(std::move(line));
}

void JobLogWriter::commit() {
  if (batch_.empty()) return;
  storage_.appendLog(job_id_, batch_);
  batch_.clear();
}

void JobLogger::log(sdk::LogLevel level, std::string_view message) {
  try {
    storage_.appendLog(job_id_, {"dray: " + std::string(message)});
  } catch (const std::exception& e) {
    spdlog::error("job {}: cannot write to the job log: {}", job_id_, e.what());
  }
  auto spd = level == sdk::LogLevel::kError  ? spdlog::level::err
             : level == sdk::LogLevel::kWarn ? spdlog::level::warn
                                             : spdlog::level::debug;
  spdlog::log(spd, "job {}: {}", job_id_, message);
}

}  // namespace dray::core

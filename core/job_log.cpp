#include "core/job_log.hpp"

#include <functional>

#include <spdlog/spdlog.h>

namespace dray::core {

void JobLogWriter::feed(LineSplitter& splitter, std::string& carry, std::string_view chunk) {
  const char* begin = chunk.data();
  const char* end = begin + chunk.size();
  splitter.feed(chunk, [&](std::string_view piece, bool ends_line) {
    // The splitter hands out pieces of the chunk itself, or of its own carry-over buffer
    // (std::less_equal: a total order even for pointers into different arrays).
    std::less_equal<const char*> le;
    collectPiece(carry, piece, ends_line, le(begin, piece.data()) && le(piece.data() + piece.size(), end));
  });
  commit();
}

void JobLogWriter::finish() {
  stdout_.finish(
      [this](std::string_view piece, bool ends_line) { collectPiece(stdout_carry_, piece, ends_line, false); });
  stderr_.finish(
      [this](std::string_view piece, bool ends_line) { collectPiece(stderr_carry_, piece, ends_line, false); });
  commit();
}

void JobLogWriter::collectPiece(std::string& carry, std::string_view piece, bool ends_line, bool in_chunk) {
  if (!masker_ || (ends_line && carry.empty())) {
    collect(piece, ends_line, in_chunk);  // the common case: no over-long line in progress
    return;
  }
  std::string text = std::move(carry);
  text.append(piece);
  carry.clear();
  if (ends_line) {
    collect(text, true, false);
    return;
  }
  const std::size_t cut = masker_->safeCut(text);
  if (cut > 0) collect(std::string_view(text).substr(0, cut), false, false);
  carry.assign(text, cut, std::string::npos);
}

namespace {

constexpr std::string_view kStepLimitNotice =
    "dray: log limit reached (DRAY_LOG_LIMIT); further output of this step is not logged (it is still passed on)";
constexpr std::string_view kJobLimitNotice =
    "dray: job log limit reached (DRAY_JOB_LOG_LIMIT); further output of this job is not logged "
    "(it is still passed on)";

}  // namespace

void JobLogWriter::collect(std::string_view piece, bool ends_line, bool in_chunk) {
  JobLogBudget* job = budget_.job;
  if (budget_.exhausted || (job && job->exhausted)) return;
  const std::size_t cost = piece.size() + kLogLineOverhead;
  // The step's limit is checked first: its notice tells the user more than the job's.
  if (cost > budget_.remaining) {
    budget_.exhausted = true;
    copyLine(kStepLimitNotice, "");
    return;
  }
  if (job && cost > job->remaining) {
    job->exhausted = true;
    copyLine(kJobLimitNotice, "");
    return;
  }
  budget_.remaining -= cost;
  ++budget_.lines_logged;
  if (job) {
    job->remaining -= cost;
    ++job->lines_logged;
  }
  if (in_chunk && ends_line) {
    const std::size_t offset = copied_.size();
    if (masker_ && masker_->maskInto(piece, copied_)) {
      batch_.push_back(Line{nullptr, offset, copied_.size() - offset});
    } else {
      batch_.push_back(Line{piece.data(), 0, piece.size()});  // valid until commit(), which ends feed()
    }
  } else {
    copyLine(piece, ends_line ? "" : kContinuedMarker);
  }
}

void JobLogWriter::copyLine(std::string_view piece, std::string_view suffix) {
  const std::size_t offset = copied_.size();
  if (!masker_ || !masker_->maskInto(piece, copied_)) copied_.append(piece);
  copied_.append(suffix);
  batch_.push_back(Line{nullptr, offset, copied_.size() - offset});
}

void JobLogWriter::commit() {
  if (batch_.empty()) return;
  views_.clear();
  for (const Line& line : batch_) {
    views_.emplace_back(line.data ? line.data : copied_.data() + line.offset, line.size);
  }
  storage_.appendLog(job_id_, views_);
  batch_.clear();
  copied_.clear();
}

void JobLogger::log(sdk::LogLevel level, std::string_view raw) {
  // Plugins' messages may quote what a step printed or was given: mask before both logs.
  const std::string masked = masker_ ? masker_->mask(raw) : std::string();
  const std::string_view message = masker_ ? std::string_view(masked) : raw;
  try {
    const std::string line = "dray: " + std::string(message);
    storage_.appendLog(job_id_, {std::string_view(line)});
  } catch (const std::exception& e) {
    spdlog::error("job {}: cannot write to the job log: {}", job_id_, e.what());
  }
  auto spd = level == sdk::LogLevel::kError  ? spdlog::level::err
             : level == sdk::LogLevel::kWarn ? spdlog::level::warn
                                             : spdlog::level::debug;
  spdlog::log(spd, "job {}: {}", job_id_, message);
}

void DeferredJobLogger::log(sdk::LogLevel level, std::string_view message) {
  std::lock_guard lock(mutex_);
  if (holding_) {
    held_.emplace_back(level, std::string(message));
    return;
  }
  target_.log(level, message);
}

void DeferredJobLogger::release() {
  std::lock_guard lock(mutex_);
  if (!holding_) return;
  holding_ = false;
  for (const auto& [level, message] : held_) target_.log(level, message);
  held_.clear();
}

}  // namespace dray::core

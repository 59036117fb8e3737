#pragma once

#include <string>
#include <vector>

#include "dray/sdk/log.hpp"
#include "dray/sdk/storage.hpp"
#include "line_splitter.hpp"

namespace dray::core {

/// Marks a log line that was cut because it exceeded the line limit.
inline constexpr std::string_view kContinuedMarker = " [dray: line continues]";

/// How many bytes of container output a step may still put into the job log (stdout and
/// stderr together). Used by one worker thread.
struct JobLogBudget {
  std::size_t remaining;
  bool exhausted = false;
  std::size_t lines_logged = 0;  ///< for the metrics
};

/// Turns a step's stdout and stderr chunks into job log lines, in arrival order, and
/// appends each chunk's complete lines to storage in one batch. Once `budget` is spent,
/// one "dray:" line says so and further lines are dropped (they are still passed on to the
/// next step). One per step; one thread.
class JobLogWriter {
 public:
  JobLogWriter(sdk::Storage& storage, std::string job_id, JobLogBudget& budget)
      : storage_(storage), job_id_(std::move(job_id)), budget_(budget) {}

  void onStdout(std::string_view chunk) { feed(stdout_, chunk); }
  void onStderr(std::string_view chunk) { feed(stderr_, chunk); }

  /// Writes unterminated last lines (stdout first). Call once after the container ended.
  void finish();

 private:
  void feed(LineSplitter& splitter, std::string_view chunk);
  void collect(std::string_view piece, bool ends_line);
  void commit();

  sdk::Storage& storage_;
  std::string job_id_;
  JobLogBudget& budget_;
  LineSplitter stdout_;
  LineSplitter stderr_;
  std::vector<std::string> batch_;
};

/// sdk::Logger that writes "dray: <message>" lines into a job's log (and the process log),
/// so users see pull failures, exit codes and missing files next to the output.
class JobLogger final : public sdk::Logger {
 public:
  JobLogger(sdk::Storage& storage, std::string job_id) : storage_(storage), job_id_(std::move(job_id)) {}
  void log(sdk::LogLevel level, std::string_view message) override;

 private:
  sdk::Storage& storage_;
  std::string job_id_;
};

}  // namespace dray::core

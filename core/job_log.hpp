#pragma once

#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include "core/line_splitter.hpp"
#include "core/secret_masker.hpp"
#include "dray/sdk/log.hpp"
#include "dray/sdk/storage.hpp"

namespace dray::core {

/// Marks a log line that was cut because it exceeded the line limit.
inline constexpr std::string_view kContinuedMarker = " [dray: line continues]";

/// What a log line costs beyond its bytes: its newline plus what storage spends per entry
/// (a std::string in the memory storage is 32 bytes; a Redis list node is about as much).
/// Without it a flood of empty lines would be free: 60 MiB of "\n" made 62,914,560 entries.
inline constexpr std::size_t kLogLineOverhead = 32;

/// How much of the job log container output may still take: one per step (DRAY_LOG_LIMIT),
/// optionally drawing on one per job (DRAY_JOB_LOG_LIMIT) that all the job's step budgets
/// share. A line costs its bytes plus kLogLineOverhead and is logged only when every budget
/// in the chain can pay. Used by one worker thread.
struct JobLogBudget {
  /// `limit` bytes; `job_budget` (not owned, outlives this; null: no job-wide limit) is
  /// charged for every line this budget pays for.
  explicit JobLogBudget(std::size_t limit, JobLogBudget* job_budget = nullptr) : remaining(limit), job(job_budget) {}

  std::size_t remaining;
  bool exhausted = false;        ///< its "limit reached" line was written
  std::size_t lines_logged = 0;  ///< for the metrics
  JobLogBudget* job;
};

/// Turns a step's stdout and stderr chunks into job log lines, in arrival order, and
/// appends each chunk's complete lines to storage in one batch. Lines are handed on as
/// views into the chunk; only a line carried over from the previous chunk or cut for
/// length is copied, into a buffer reused for every batch, so steady output costs no
/// allocation per line. Once `budget` (or the job budget it draws on) is spent, one "dray:"
/// line says so and further lines are dropped (they are still passed on to the next step).
/// One per step; one thread.
///
/// Masking secrets is a stage of this writer, so every storage gets masked lines: with a
/// `masker` (not owned, outlives the writer), a line holding a secret is written masked
/// into the copy buffer; other lines stay views. Without one nothing changes.
class JobLogWriter {
 public:
  JobLogWriter(sdk::Storage& storage, std::string job_id, JobLogBudget& budget, const SecretMasker* masker = nullptr)
      : storage_(storage), job_id_(std::move(job_id)), budget_(budget), masker_(masker) {}

  void onStdout(std::string_view chunk) { feed(stdout_, stdout_carry_, chunk); }
  void onStderr(std::string_view chunk) { feed(stderr_, stderr_carry_, chunk); }

  /// Writes unterminated last lines (stdout first). Call once after the container ended.
  void finish();

 private:
  // A line of the batch: a view into the chunk, or a range of copied_ (which may still
  // move while the batch grows, hence offsets).
  struct Line {
    const char* data;  // nullptr: the bytes are in copied_ at `offset`
    std::size_t offset;
    std::size_t size;
  };

  void feed(LineSplitter& splitter, std::string& carry, std::string_view chunk);
  void collectPiece(std::string& carry, std::string_view piece, bool ends_line, bool in_chunk);
  void collect(std::string_view piece, bool ends_line, bool in_chunk);
  void copyLine(std::string_view piece, std::string_view suffix);
  void commit();

  sdk::Storage& storage_;
  std::string job_id_;
  JobLogBudget& budget_;
  const SecretMasker* masker_;
  LineSplitter stdout_;
  LineSplitter stderr_;
  // With secrets: the tail of a cut piece of an over-long line, held back so a secret
  // across the cut is masked whole (see SecretMasker::safeCut). One per stream.
  std::string stdout_carry_;
  std::string stderr_carry_;
  std::vector<Line> batch_;
  std::string copied_;
  std::vector<std::string_view> views_;
};

/// sdk::Logger that writes "dray: <message>" lines into a job's log (and the process log),
/// so users see pull failures, exit codes and missing files next to the output. With a
/// `masker` (not owned, outlives the logger) secrets are masked in both.
class JobLogger final : public sdk::Logger {
 public:
  JobLogger(sdk::Storage& storage, std::string job_id, const SecretMasker* masker = nullptr)
      : storage_(storage), job_id_(std::move(job_id)), masker_(masker) {}
  void log(sdk::LogLevel level, std::string_view message) override;
  const std::string& jobId() const { return job_id_; }
  const SecretMasker* masker() const { return masker_; }

 private:
  sdk::Storage& storage_;
  std::string job_id_;
  const SecretMasker* masker_;
};

/// A JobLogger that holds messages back until release(), then writes them and passes
/// later ones straight through. Lets a step be prepared ahead of its turn (an image pull
/// logs) without its messages landing in the middle of the previous step's output.
class DeferredJobLogger final : public sdk::Logger {
 public:
  DeferredJobLogger(sdk::Storage& storage, std::string job_id, const SecretMasker* masker = nullptr)
      : target_(storage, std::move(job_id), masker) {}
  void log(sdk::LogLevel level, std::string_view message) override;

  /// Writes the held messages, in order; later messages are written at once.
  void release();

  const std::string& jobId() const { return target_.jobId(); }
  const SecretMasker* masker() const { return target_.masker(); }

 private:
  JobLogger target_;
  std::mutex mutex_;
  bool holding_ = true;
  std::vector<std::pair<sdk::LogLevel, std::string>> held_;
};

}  // namespace dray::core

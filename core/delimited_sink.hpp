#pragma once

#include <string>

#include "core/line_splitter.hpp"
#include "dray/sdk/stream.hpp"

namespace dray::core {

/// Passes on only the lines between a line equal to `begin` and a line equal to `end`
/// (markers excluded, several sections allowed), each followed by '\n' — the original
/// Dray's beginDelimiter/endDelimiter behaviour, but streamed with bounded memory.
class DelimitedSink final : public sdk::ByteSink {
 public:
  /// `max_line`: longer lines arrive in pieces and so are never markers (tests set it low).
  DelimitedSink(sdk::ByteSink& next, std::string begin, std::string end, std::size_t max_line = 64 * 1024)
      : next_(next), begin_(std::move(begin)), end_(std::move(end)), splitter_(max_line) {}

  void write(std::string_view chunk) override {
    splitter_.feed(chunk, [this](std::string_view piece, bool ends_line) { onPiece(piece, ends_line); });
  }

  /// Handles an unterminated last line. Call once after the last write.
  void finish() {
    splitter_.finish([this](std::string_view piece, bool ends_line) { onPiece(piece, ends_line); });
  }

  /// After finish(): why the output was not cut as asked, for the job log ("" when both
  /// markers were seen). A begin never seen explains an empty next input; an end never seen
  /// means everything after the begin was passed on. `step` names the step ("step 2").
  std::string missingMarkerNotice(const std::string& step) const {
    if (!seen_begin_) {
      return "beginDelimiter \"" + begin_ + "\" never seen in " + step + "'s output; the next step gets empty input";
    }
    if (!seen_end_) {
      return "endDelimiter \"" + end_ + "\" never seen in " + step +
             "'s output after beginDelimiter; all that followed was passed on";
    }
    return "";
  }

 private:
  void onPiece(std::string_view piece, bool ends_line) {
    // Only a line that arrived whole can be a marker.
    const bool whole = line_start_ && ends_line;
    if (whole && piece == end_ && capturing_) {
      capturing_ = false;
      seen_end_ = true;  // an end before any begin ends nothing, so it does not count
    }
    if (capturing_) {
      next_.write(piece);
      if (ends_line) next_.write("\n");
    }
    if (whole && piece == begin_ && !capturing_) {
      capturing_ = true;
      seen_begin_ = true;
      seen_end_ = false;  // this section needs its own end
    }
    line_start_ = ends_line;
  }

  sdk::ByteSink& next_;
  std::string begin_;
  std::string end_;
  bool capturing_ = false;
  bool line_start_ = true;
  bool seen_begin_ = false;
  bool seen_end_ = false;
  LineSplitter splitter_;
};

}  // namespace dray::core

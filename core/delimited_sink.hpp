#pragma once

#include <string>

#include "dray/sdk/stream.hpp"
#include "line_splitter.hpp"

namespace dray::core {

/// Passes on only the lines between a line equal to `begin` and a line equal to `end`
/// (markers excluded, several sections allowed), each followed by '\n' — the original
/// Dray's beginDelimiter/endDelimiter behaviour, but streamed with bounded memory.
class DelimitedSink final : public sdk::ByteSink {
 public:
  DelimitedSink(sdk::ByteSink& next, std::string begin, std::string end)
      : next_(next), begin_(std::move(begin)), end_(std::move(end)) {}

  void write(std::string_view chunk) override {
    splitter_.feed(chunk, [this](std::string_view piece, bool ends_line) { onPiece(piece, ends_line); });
  }

  /// Handles an unterminated last line. Call once after the last write.
  void finish() {
    splitter_.finish([this](std::string_view piece, bool ends_line) { onPiece(piece, ends_line); });
  }

 private:
  void onPiece(std::string_view piece, bool ends_line) {
    // Only a line that arrived whole can be a marker.
    const bool whole = line_start_ && ends_line;
    if (whole && piece == end_) capturing_ = false;
    if (capturing_) {
      next_.write(piece);
      if (ends_line) next_.write("\n");
    }
    if (whole && piece == begin_) capturing_ = true;
    line_start_ = ends_line;
  }

  sdk::ByteSink& next_;
  std::string begin_;
  std::string end_;
  bool capturing_ = false;
  bool line_start_ = true;
  LineSplitter splitter_;
};

}  // namespace dray::core

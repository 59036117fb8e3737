#pragma once

#include <string>
#include <string_view>

namespace dray::core {

/// Cuts a byte stream into lines ('\n' removed). Keeps only the unfinished tail, and never
/// more than `max_line` bytes of it: a longer line is delivered in pieces, so memory stays
/// bounded whatever a container prints.
///
/// Callbacks get `(std::string_view piece, bool ends_line)`; `ends_line` is false only for
/// the leading pieces of an over-long line.
class LineSplitter {
 public:
  explicit LineSplitter(std::size_t max_line = 64 * 1024) : max_line_(max_line) {}

  template <typename OnPiece>
  void feed(std::string_view chunk, OnPiece&& on_piece) {
    while (!chunk.empty()) {
      std::size_t newline = chunk.find('\n');
      std::string_view piece = chunk.substr(0, newline);
      if (newline != std::string_view::npos && pending_.empty()) {
        cut(piece, on_piece);  // the whole line is inside the chunk: no copy
      } else {
        pending_.append(piece);
        if (newline != std::string_view::npos) {
          cut(pending_, on_piece);
          pending_.clear();
        } else {
          // Keep at most max_line bytes. A piece goes out only once a byte beyond it has
          // arrived: a line of exactly max_line bytes is whole until proven otherwise, however
          // its newline arrives (as cut() decides when the line arrives at once).
          std::size_t sent = 0;
          while (pending_.size() - sent > max_line_) {
            on_piece(std::string_view(pending_).substr(sent, max_line_), false);
            sent += max_line_;
          }
          pending_.erase(0, sent);
        }
      }
      if (newline == std::string_view::npos) break;
      chunk.remove_prefix(newline + 1);
    }
  }

  /// Delivers the unfinished last line, if any, as a complete line.
  template <typename OnPiece>
  void finish(OnPiece&& on_piece) {
    if (!pending_.empty()) cut(pending_, on_piece);
    pending_.clear();
  }

 private:
  template <typename OnPiece>
  void cut(std::string_view line, OnPiece& on_piece) {
    while (line.size() > max_line_) {
      on_piece(line.substr(0, max_line_), false);
      line.remove_prefix(max_line_);
    }
    on_piece(line, true);
  }

  std::size_t max_line_;
  std::string pending_;
};

}  // namespace dray::core

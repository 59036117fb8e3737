// Line splitter and delimiters: a container's output in arbitrary chunks.
// Input: [max_line (0 = 64 KiB)] [chunking seed (0 = one byte at a time)] then either
// "BEGIN\0END\0<output>" (delimiters) or just "<output>" (no second NUL).
// Line splitter: any chunking gives the same pieces as the whole; the pieces and their
// newlines give back the output; a piece is at most max_line bytes and only a full-size one
// may leave its line unfinished; at most max_line bytes are held back after any chunk.
// Delimiters: any chunking gives the same bytes and notice as the whole, and both equal a
// plain line-by-line reading of the output.
#include <string>
#include <utility>
#include <vector>

#include "core/delimited_sink.hpp"
#include "core/line_splitter.hpp"
#include "tests/fuzz/fuzz_support.hpp"

namespace {

using dray::core::DelimitedSink;
using dray::core::LineSplitter;

using Pieces = std::vector<std::pair<std::string, bool>>;

Pieces split(const std::vector<std::string_view>& chunks, std::size_t max_line) {
  LineSplitter splitter(max_line);
  Pieces pieces;
  std::size_t fed = 0;
  std::size_t delivered = 0;  // piece bytes plus one per finished line ('\n' consumed)
  auto collect = [&](std::string_view piece, bool ends_line) {
    FUZZ_CHECK(piece.size() <= max_line);
    FUZZ_CHECK(ends_line || piece.size() == max_line);
    delivered += piece.size() + (ends_line ? 1 : 0);
    pieces.emplace_back(std::string(piece), ends_line);
  };
  for (std::string_view chunk : chunks) {
    splitter.feed(chunk, collect);
    fed += chunk.size();
    // Memory stays bounded: what was fed but not yet delivered is one unfinished line tail.
    FUZZ_CHECK(fed <= delivered + max_line);
  }
  splitter.finish(collect);
  return pieces;
}

class StringSink final : public dray::sdk::ByteSink {
 public:
  void write(std::string_view chunk) override { data.append(chunk); }
  std::string data;
};

std::pair<std::string, std::string> delimited(const std::vector<std::string_view>& chunks, std::size_t max_line,
                                              const std::string& begin, const std::string& end) {
  StringSink out;
  DelimitedSink sink(out, begin, end, max_line);
  for (std::string_view chunk : chunks) sink.write(chunk);
  sink.finish();
  return {out.data, sink.missingMarkerNotice("step 1")};
}

// The original Dray's rule read off whole lines, in its order: a line equal to `end` ends a
// section, a line inside a section is passed on, a line equal to `begin` outside one starts a
// section (so with begin == end a marker ends and restarts it). Only a line that fits in
// max_line can be a marker: a longer one is seen only in pieces.
std::pair<std::string, std::string> delimitedReference(std::string_view output, std::size_t max_line,
                                                       const std::string& begin, const std::string& end) {
  std::string passed;
  bool capturing = false, seen_begin = false, seen_end = false;
  while (!output.empty()) {
    const std::size_t newline = output.find('\n');
    const std::string_view line = output.substr(0, newline);
    output.remove_prefix(newline == std::string_view::npos ? output.size() : newline + 1);
    const bool can_mark = line.size() <= max_line;
    if (can_mark && capturing && line == end) {
      capturing = false;
      seen_end = true;
    }
    if (capturing) passed.append(line).append("\n");
    if (can_mark && !capturing && line == begin) {
      capturing = true;
      seen_begin = true;
      seen_end = false;
    }
  }
  // The notice for those flags, from a sink that sees just the markers.
  StringSink unused;
  DelimitedSink notices(unused, begin, end, max_line);
  if (seen_begin) notices.write(begin + "\n");
  if (seen_begin && seen_end) notices.write(end + "\n");
  notices.finish();
  return {passed, notices.missingMarkerNotice("step 1")};
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 2) return 0;
  const std::size_t max_line = data[0] == 0 ? 64 * 1024 : data[0];
  const std::uint8_t seed = data[1];
  std::string_view rest(reinterpret_cast<const char*>(data) + 2, size - 2);

  std::string begin, end;
  const std::size_t first = rest.find('\0');
  const std::size_t second = first == std::string_view::npos ? first : rest.find('\0', first + 1);
  if (second != std::string_view::npos && first > 0 && second > first + 1) {
    begin = std::string(rest.substr(0, first));
    end = std::string(rest.substr(first + 1, second - first - 1));
    rest.remove_prefix(second + 1);
  }
  const std::string_view output = rest;
  const std::vector<std::string_view> whole{output};
  const std::vector<std::string_view> cut =
      seed == 0 ? dray::fuzz::pieces(output, 0, 1) : dray::fuzz::pieces(output, seed, 2 * max_line + 3);

  const Pieces expected = split(whole, max_line);
  FUZZ_CHECK(split(cut, max_line) == expected);
  std::string joined;
  for (const auto& [piece, ends_line] : expected) joined.append(piece).append(ends_line ? "\n" : "");
  FUZZ_CHECK(joined == std::string(output) + (output.empty() || output.back() == '\n' ? "" : "\n"));

  if (!begin.empty()) {
    const auto reference = delimitedReference(output, max_line, begin, end);
    FUZZ_CHECK(delimited(whole, max_line, begin, end) == reference);
    FUZZ_CHECK(delimited(cut, max_line, begin, end) == reference);
  }
  return 0;
}

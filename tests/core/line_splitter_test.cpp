#include "line_splitter.hpp"

#include <catch2/catch.hpp>

#include "delimited_sink.hpp"
#include "string_streams.hpp"

using dray::core::DelimitedSink;
using dray::core::LineSplitter;

namespace {

std::vector<std::string> split(const std::vector<std::string>& chunks, std::size_t max_line = 64 * 1024) {
  LineSplitter splitter(max_line);
  std::vector<std::string> lines;
  auto collect = [&](std::string_view piece, bool ends_line) {
    lines.push_back(std::string(piece) + (ends_line ? "" : "+"));
  };
  for (const auto& chunk : chunks) splitter.feed(chunk, collect);
  splitter.finish(collect);
  return lines;
}

std::string delimited(const std::vector<std::string>& chunks, const std::string& begin, const std::string& end) {
  dray::test::StringSink out;
  DelimitedSink sink(out, begin, end);
  for (const auto& chunk : chunks) sink.write(chunk);
  sink.finish();
  return out.data;
}

}  // namespace

TEST_CASE("lines split across chunks join up", "[core][lines]") {
  using V = std::vector<std::string>;
  CHECK(split({"a\nb", "c\n", "\nd"}) == V{"a", "bc", "", "d"});
  CHECK(split({"one\n"}) == V{"one"});
  CHECK(split({""}).empty());
  CHECK(split({"x", "y", "z"}) == V{"xyz"});
}

TEST_CASE("an over-long line is delivered in bounded pieces", "[core][lines]") {
  using V = std::vector<std::string>;
  CHECK(split({"abcdefg\nhi\n"}, 3) == V{"abc+", "def+", "g", "hi"});
  CHECK(split({"ab", "cd", "ef", "g\n"}, 3) == V{"abc+", "def+", "g"});
}

TEST_CASE("delimiters pass on only the marked sections, as the original did", "[core][delimiters]") {
  CHECK(delimited({"noise\nBEGIN\nkeep 1\nkeep 2\nEND\nnoise\n"}, "BEGIN", "END") == "keep 1\nkeep 2\n");
  CHECK(delimited({"BEG", "IN\nx\nE", "ND\ny\nBEGIN\nz"}, "BEGIN", "END") == "x\nz\n");
  CHECK(delimited({"no markers at all\n"}, "BEGIN", "END").empty());
  CHECK(delimited({"BEGIN\nnot ended\n"}, "BEGIN", "END") == "not ended\n");
}

TEST_CASE("delimiters that never matched are explained, naming the step", "[core][delimiters]") {
  auto notice = [](const std::vector<std::string>& chunks) {
    dray::test::StringSink out;
    DelimitedSink sink(out, "BEGIN", "END");
    for (const auto& chunk : chunks) sink.write(chunk);
    sink.finish();
    return sink.missingMarkerNotice("step 2");
  };
  CHECK(notice({"noise\nBEGIN\nkeep\nEND\n"}).empty());
  CHECK(notice({"BEGIN\na\nEND\nBEGIN\nb\nEND"}).empty());  // the last end arrives unterminated
  CHECK(notice({"no markers\n"}) == "beginDelimiter \"BEGIN\" never seen in step 2's output; the next step gets empty input");
  CHECK(notice({"END\nno begin\n"}) == notice({""}));  // an end alone ends nothing
  CHECK(notice({"xBEGIN\n"}) == notice({""}));          // only a whole line is a marker
  CHECK(notice({"BEGIN\nnot ended\n"}) ==
        "endDelimiter \"END\" never seen in step 2's output after beginDelimiter; all that followed was passed on");
  CHECK(notice({"BEGIN\na\nEND\nBEGIN\nb\n"}) == notice({"BEGIN\n"}));  // the last section has no end
}

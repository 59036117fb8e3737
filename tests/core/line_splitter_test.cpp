#include "core/line_splitter.hpp"

#include <catch2/catch.hpp>

#include "core/delimited_sink.hpp"
#include "tests/fakes/string_streams.hpp"

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

// Found by fuzz_line_splitter (issue 14): a line of exactly max_line bytes was cut as if
// longer when its newline came in a later chunk or never came, and one chunk longer than
// 2 × max_line left more than max_line bytes held back.
TEST_CASE("a line of exactly max_line bytes is whole however it arrives", "[core][lines][fuzz]") {
  using V = std::vector<std::string>;
  CHECK(split({"abc", "\n"}, 3) == split({"abc\n"}, 3));
  CHECK(split({"abc", "\n"}, 3) == V{"abc"});
  CHECK(split({"abc"}, 3) == V{"abc"});  // the unfinished last line is a complete line
  CHECK(split({"ab", "c", "def", "\n"}, 3) == V{"abc+", "def"});
  // A marker of exactly max_line bytes is still a marker when its newline comes later.
  dray::test::StringSink out;
  DelimitedSink sink(out, "BEGIN", "END", 5);
  sink.write("BEGIN");
  sink.write("\nx\nEND\n");
  sink.finish();
  CHECK(out.data == "x\n");
  CHECK(sink.missingMarkerNotice("step 1").empty());
}

TEST_CASE("at most max_line bytes are held back whatever the chunk size", "[core][lines][fuzz]") {
  LineSplitter splitter(3);
  std::vector<std::string> pieces;
  auto collect = [&](std::string_view piece, bool ends_line) {
    pieces.push_back(std::string(piece) + (ends_line ? "" : "+"));
  };
  splitter.feed("abcdefghij", collect);  // 10 bytes, no newline: 9 go out, 1 is held
  CHECK(pieces == std::vector<std::string>{"abc+", "def+", "ghi+"});
  splitter.feed("klmnopq", collect);  // held "j" + 7: "jkl", "mno" go out, "pq" is held
  CHECK(pieces.size() == 5);
  splitter.finish(collect);
  CHECK(pieces == std::vector<std::string>{"abc+", "def+", "ghi+", "jkl+", "mno+", "pq"});
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
  CHECK(notice({"no markers\n"}) ==
        "beginDelimiter \"BEGIN\" never seen in step 2's output; the next step gets empty input");
  CHECK(notice({"END\nno begin\n"}) == notice({""}));  // an end alone ends nothing
  CHECK(notice({"xBEGIN\n"}) == notice({""}));         // only a whole line is a marker
  CHECK(notice({"BEGIN\nnot ended\n"}) ==
        "endDelimiter \"END\" never seen in step 2's output after beginDelimiter; all that followed was passed on");
  CHECK(notice({"BEGIN\na\nEND\nBEGIN\nb\n"}) == notice({"BEGIN\n"}));  // the last section has no end
}

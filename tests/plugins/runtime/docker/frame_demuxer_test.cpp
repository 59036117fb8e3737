#include "plugins/runtime/docker/frame_demuxer.hpp"

#include <catch2/catch.hpp>

using dray::plugins::runtime::docker::FrameDemuxer;
using dray::plugins::runtime::docker::FrameStream;

namespace {

std::string frame(std::uint8_t stream, const std::string& payload) {
  std::string header(8, '\0');
  header[0] = static_cast<char>(stream);
  auto size = static_cast<std::uint32_t>(payload.size());
  header[4] = static_cast<char>(size >> 24);
  header[5] = static_cast<char>(size >> 16);
  header[6] = static_cast<char>(size >> 8);
  header[7] = static_cast<char>(size);
  return header + payload;
}

struct Collected {
  std::string out;
  std::string err;
  std::vector<FrameStream> order;
};

Collected feedInPieces(const std::string& wire, std::size_t piece) {
  FrameDemuxer demuxer;
  Collected c;
  for (std::size_t i = 0; i < wire.size(); i += piece) {
    demuxer.feed(std::string_view(wire).substr(i, piece), [&](FrameStream s, std::string_view payload) {
      (s == FrameStream::kStderr ? c.err : c.out).append(payload);
      if (c.order.empty() || c.order.back() != s) c.order.push_back(s);
    });
  }
  CHECK(demuxer.idle());
  return c;
}

}  // namespace

TEST_CASE("frames split at every possible boundary demultiplex the same", "[plugins][docker][demux]") {
  std::string big(70000, 'b');
  std::string wire = frame(1, "hello\n") + frame(2, "oops\n") + frame(1, "") + frame(1, big) + frame(2, "x");
  for (std::size_t piece : {1u, 2u, 7u, 8u, 9u, 4096u, 100000u}) {
    INFO(piece);
    auto c = feedInPieces(wire, piece);
    CHECK(c.out == "hello\n" + big);
    CHECK(c.err == "oops\nx");
    CHECK(c.order == std::vector<FrameStream>{FrameStream::kStdout, FrameStream::kStderr, FrameStream::kStdout,
                                              FrameStream::kStderr});
  }
}

TEST_CASE("binary payloads, including bytes that look like headers, pass untouched", "[plugins][docker][demux]") {
  std::string payload;
  for (int i = 0; i < 256; ++i) payload.push_back(static_cast<char>(i));
  payload += frame(2, "not a real frame");
  auto c = feedInPieces(frame(1, payload), 3);
  CHECK(c.out == payload);
  CHECK(c.err.empty());
}

TEST_CASE("a half-read frame is not idle", "[plugins][docker][demux]") {
  FrameDemuxer demuxer;
  std::string wire = frame(1, "abc");
  demuxer.feed(std::string_view(wire).substr(0, 5), [](FrameStream, std::string_view) {});
  CHECK_FALSE(demuxer.idle());
  demuxer.feed(std::string_view(wire).substr(5), [](FrameStream, std::string_view) {});
  CHECK(demuxer.idle());
}

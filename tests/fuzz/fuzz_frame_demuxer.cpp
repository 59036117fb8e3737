// Docker's multiplexed attach stream, arriving in arbitrary pieces. The first input byte
// picks how the rest is cut (a seed; 0 = one byte at a time). Checks that the payloads
// (per stream, in order) are the same as when the stream is fed whole and as a plain
// reference parse of the frames, that every slice is non-empty and lies inside the piece
// that was fed (no copies), and that idle() is true exactly at frame boundaries.
#include <functional>
#include <string>
#include <utility>
#include <vector>

#include "plugins/runtime/docker/frame_demuxer.hpp"
#include "tests/fuzz/fuzz_support.hpp"

namespace {

using dray::plugins::runtime::docker::FrameDemuxer;
using dray::plugins::runtime::docker::FrameStream;

using Output = std::vector<std::pair<std::uint8_t, std::string>>;

// Appends a slice, joining it to the previous one of the same stream: the demuxer may hand
// one frame on in several slices, and two frames of one stream in a row read the same.
void append(Output& out, std::uint8_t stream, std::string_view slice) {
  if (!out.empty() && out.back().first == stream) {
    out.back().second.append(slice);
  } else {
    out.emplace_back(stream, std::string(slice));
  }
}

struct Demuxed {
  Output output;
  bool idle = true;
};

Demuxed demux(const std::vector<std::string_view>& chunks) {
  FrameDemuxer demuxer;
  Demuxed result;
  for (std::string_view chunk : chunks) {
    demuxer.feed(chunk, [&](FrameStream stream, std::string_view slice) {
      FUZZ_CHECK(!slice.empty());
      std::less_equal<const char*> le;
      FUZZ_CHECK(le(chunk.data(), slice.data()) && le(slice.data() + slice.size(), chunk.data() + chunk.size()));
      append(result.output, static_cast<std::uint8_t>(stream), slice);
    });
  }
  result.idle = demuxer.idle();
  return result;
}

// The format read the obvious way, all at once.
Demuxed reference(std::string_view data) {
  Demuxed result;
  while (!data.empty()) {
    if (data.size() < 8) {
      result.idle = false;
      break;
    }
    const auto* h = reinterpret_cast<const unsigned char*>(data.data());
    const std::uint64_t size = (std::uint64_t{h[4]} << 24) | (h[5] << 16) | (h[6] << 8) | h[7];
    data.remove_prefix(8);
    const std::size_t take = static_cast<std::size_t>(std::min<std::uint64_t>(size, data.size()));
    if (take > 0) append(result.output, h[0], data.substr(0, take));
    data.remove_prefix(take);
    if (take < size) result.idle = false;
  }
  return result;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  const std::uint8_t seed = data[0];
  const std::string_view stream(reinterpret_cast<const char*>(data) + 1, size - 1);

  const Demuxed whole = demux({stream});
  const Demuxed cut = demux(seed == 0 ? dray::fuzz::pieces(stream, 0, 1) : dray::fuzz::pieces(stream, seed, 24));
  const Demuxed expected = reference(stream);
  FUZZ_CHECK(whole.output == expected.output && whole.idle == expected.idle);
  FUZZ_CHECK(cut.output == expected.output && cut.idle == expected.idle);
  return 0;
}

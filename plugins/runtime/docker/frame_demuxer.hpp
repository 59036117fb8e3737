#pragma once

#include <array>
#include <cstdint>
#include <string_view>

namespace dray::plugins::runtime::docker {

/// Which stream a frame belongs to (the first header byte).
enum class FrameStream : std::uint8_t { kStdin = 0, kStdout = 1, kStderr = 2 };

/// Splits Docker's multiplexed attach stream — frames of an 8-byte header
/// [stream, 0, 0, 0, size as big-endian uint32] and `size` payload bytes — arriving in
/// arbitrary pieces. Payload is handed on as slices of the input (no copy), so one frame
/// may arrive as several slices. Only the header is buffered.
class FrameDemuxer {
 public:
  /// Calls `on_payload(FrameStream, std::string_view)` for each payload slice in `data`.
  template <typename OnPayload>
  void feed(std::string_view data, OnPayload&& on_payload) {
    while (!data.empty()) {
      if (remaining_ == 0) {
        std::size_t take = std::min(data.size(), header_.size() - header_filled_);
        for (std::size_t i = 0; i < take; ++i) header_[header_filled_ + i] = static_cast<std::uint8_t>(data[i]);
        header_filled_ += take;
        data.remove_prefix(take);
        if (header_filled_ < header_.size()) return;
        header_filled_ = 0;
        stream_ = static_cast<FrameStream>(header_[0]);
        remaining_ = (std::uint32_t{header_[4]} << 24) | (std::uint32_t{header_[5]} << 16) |
                     (std::uint32_t{header_[6]} << 8) | std::uint32_t{header_[7]};
        continue;
      }
      std::size_t take = std::min<std::size_t>(data.size(), remaining_);
      on_payload(stream_, data.substr(0, take));
      remaining_ -= static_cast<std::uint32_t>(take);
      data.remove_prefix(take);
    }
  }

  /// True between frames (nothing half-read).
  bool idle() const { return remaining_ == 0 && header_filled_ == 0; }

 private:
  std::array<std::uint8_t, 8> header_{};
  std::size_t header_filled_ = 0;
  std::uint32_t remaining_ = 0;
  FrameStream stream_ = FrameStream::kStdout;
};

}  // namespace dray::plugins::runtime::docker

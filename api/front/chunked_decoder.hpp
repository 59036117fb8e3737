#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace dray::api {

/// Decodes a chunked request body incrementally, as bytes arrive, into one string.
/// Refuses a body longer than `max_body` as soon as a chunk size says so, and malformed
/// framing at the first bad byte. Extensions and trailers are read and ignored.
class ChunkedDecoder {
 public:
  enum class Result { kNeedMore, kDone, kTooLarge, kMalformed };

  explicit ChunkedDecoder(std::size_t max_body) : max_body_(max_body) {}

  /// Consumes from `input` what belongs to the body; `consumed` says how much. After kDone
  /// the rest of `input` is the next request.
  Result feed(std::string_view input, std::size_t& consumed, std::string& body);

 private:
  enum class State { kSize, kData, kDataEnd, kTrailer };
  static constexpr std::size_t kMaxLine = 4096;
  static constexpr std::size_t kMaxTrailerLines = 100;

  Result line(std::string_view input, std::size_t& at, std::string& out, bool& complete);

  std::size_t max_body_;
  State state_ = State::kSize;
  std::size_t remaining_ = 0;
  std::size_t trailer_lines_ = 0;
  std::string line_;
};

}  // namespace dray::api

#include "api/front/chunked_decoder.hpp"

#include <algorithm>

namespace dray::api {
namespace {

int hexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

}  // namespace

// Collects one CRLF-terminated line across calls (without the CRLF) into `out`.
ChunkedDecoder::Result ChunkedDecoder::line(std::string_view input, std::size_t& at, std::string& out, bool& complete) {
  complete = false;
  while (at < input.size()) {
    char c = input[at++];
    if (c == '\n') {
      if (!out.empty() && out.back() == '\r') out.pop_back();
      complete = true;
      return Result::kNeedMore;
    }
    out.push_back(c);
    if (out.size() > kMaxLine) return Result::kMalformed;
  }
  return Result::kNeedMore;
}

ChunkedDecoder::Result ChunkedDecoder::feed(std::string_view input, std::size_t& consumed, std::string& body) {
  std::size_t at = 0;
  bool complete = false;
  while (at < input.size()) {
    switch (state_) {
      case State::kSize: {
        if (line(input, at, line_, complete) == Result::kMalformed) return Result::kMalformed;
        if (!complete) break;
        std::size_t size = 0, digits = 0;
        for (char c : line_) {
          int v = hexValue(c);
          if (v < 0) break;
          if (++digits > 15) return Result::kTooLarge;
          size = size * 16 + static_cast<std::size_t>(v);
        }
        // After the digits only blanks, then an extension (";…") or the end of the line.
        // Anything else ("5 x") is refused: a proxy in front could read the size otherwise.
        std::size_t rest = digits;
        while (rest < line_.size() && (line_[rest] == ' ' || line_[rest] == '\t')) ++rest;
        if (digits == 0 || (rest < line_.size() && line_[rest] != ';')) return Result::kMalformed;
        line_.clear();
        if (size > max_body_ - std::min(max_body_, body.size())) return Result::kTooLarge;
        remaining_ = size;
        state_ = size == 0 ? State::kTrailer : State::kData;
        break;
      }
      case State::kData: {
        std::size_t take = std::min(remaining_, input.size() - at);
        body.append(input.substr(at, take));
        at += take;
        remaining_ -= take;
        if (remaining_ == 0) state_ = State::kDataEnd;
        break;
      }
      case State::kDataEnd:
        if (line(input, at, line_, complete) == Result::kMalformed) return Result::kMalformed;
        if (!complete) break;
        if (!line_.empty()) return Result::kMalformed;  // chunk data longer than its size
        state_ = State::kSize;
        break;
      case State::kTrailer:
        if (line(input, at, line_, complete) == Result::kMalformed) return Result::kMalformed;
        if (!complete) break;
        if (line_.empty()) {
          consumed = at;
          return Result::kDone;
        }
        line_.clear();  // a trailer field: ignored, but not without end
        if (++trailer_lines_ > kMaxTrailerLines) return Result::kMalformed;
        break;
    }
  }
  consumed = at;
  return Result::kNeedMore;
}

}  // namespace dray::api

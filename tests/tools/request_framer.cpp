#include "tests/tools/request_framer.hpp"

#include <algorithm>
#include <cctype>
#include <cstdlib>

namespace dray::test {
namespace {

void move(std::string& in, std::string& out, std::size_t count) {
  out.append(in, 0, count);
  in.erase(0, count);
}

}  // namespace

RequestFramer::Result RequestFramer::pump(std::string& in, std::string& out, std::size_t limit, const Admit& admit,
                                          bool raw_may_move) {
  while (!in.empty() && out.size() < limit) {
    switch (phase_) {
      case Phase::kHead: {
        const Result result = takeHead(in, out, admit);
        if (result != Result::kIdle) return result;
        if (phase_ == Phase::kHead && in.find("\r\n\r\n") == std::string::npos) {
          return in.size() <= kMaxHead ? Result::kIdle : Result::kBadInput;
        }
        break;
      }
      case Phase::kLength:
      case Phase::kChunkData: {
        const auto count = static_cast<std::size_t>(std::min<std::uint64_t>(remaining_, in.size()));
        move(in, out, count);
        remaining_ -= count;
        if (remaining_ == 0) phase_ = phase_ == Phase::kLength ? Phase::kHead : Phase::kChunkSize;
        break;
      }
      case Phase::kChunkSize:
      case Phase::kTrailer: {
        const auto eol = in.find("\r\n");
        if (eol == std::string::npos) return in.size() <= kMaxHead ? Result::kIdle : Result::kBadInput;
        const auto size = std::strtoull(in.c_str(), nullptr, 16);  // stops at a ";extension"
        const bool trailer = phase_ == Phase::kTrailer;
        move(in, out, eol + 2);
        if (!trailer) {
          remaining_ = size + 2;  // the data and its CRLF
          phase_ = size == 0 ? Phase::kTrailer : Phase::kChunkData;
        } else if (eol == 0) {
          phase_ = Phase::kHead;
        }
        break;
      }
      case Phase::kRaw:
        if (!raw_may_move) return Result::kIdle;
        move(in, out, std::min(in.size(), limit - out.size()));
        break;
    }
  }
  return Result::kIdle;
}

// Moves one complete head from the front of `in` if `admit` lets it; kIdle when it moved or
// is still incomplete.
RequestFramer::Result RequestFramer::takeHead(std::string& in, std::string& out, const Admit& admit) {
  const auto end = in.find("\r\n\r\n");
  if (end == std::string::npos) return Result::kIdle;
  const std::string head = in.substr(0, end + 2);
  const auto first_space = head.find(' ');
  const auto second_space = head.find(' ', first_space + 1);
  if (first_space == std::string::npos || second_space == std::string::npos) {
    phase_ = Phase::kRaw;  // not HTTP as we know it: pass it on and let the engine answer
    return Result::kIdle;
  }
  std::string lower = head;
  std::transform(lower.begin(), lower.end(), lower.begin(), [](unsigned char c) { return std::tolower(c); });
  readHeaders(lower);
  const Head parsed{head.substr(0, first_space), head.substr(first_space + 1, second_space - first_space - 1),
                    phase_ == Phase::kRaw};
  if (!admit(parsed)) {
    phase_ = Phase::kHead;  // read again when admit is asked next time
    return Result::kHeld;
  }
  move(in, out, end + 4);
  return parsed.upgrade ? Result::kUpgraded : Result::kIdle;
}

// Sets the phase that follows a head from its lower-cased header lines.
void RequestFramer::readHeaders(const std::string& lower_head) {
  phase_ = Phase::kHead;
  remaining_ = 0;
  for (std::size_t at = lower_head.find("\r\n"); at != std::string::npos && at + 2 < lower_head.size();) {
    const auto next = lower_head.find("\r\n", at + 2);
    const std::string line = lower_head.substr(at + 2, next - at - 2);
    at = next;
    const auto colon = line.find(':');
    if (colon == std::string::npos) continue;
    const std::string name = line.substr(0, colon);
    const std::string value = line.substr(colon + 1);
    if (name == "upgrade") {
      phase_ = Phase::kRaw;
      return;
    }
    if (name == "transfer-encoding" && value.find("chunked") != std::string::npos) phase_ = Phase::kChunkSize;
    if (name == "content-length" && phase_ == Phase::kHead) {
      remaining_ = std::strtoull(value.c_str(), nullptr, 10);
      if (remaining_ > 0) phase_ = Phase::kLength;
    }
  }
}

}  // namespace dray::test

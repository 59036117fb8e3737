#pragma once

/// Splits a client's byte stream into HTTP/1.1 requests for the engine proxy.
#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>

namespace dray::test {

/// Moves a client's bytes to the engine a request part at a time, so the proxy sees each
/// request head before the engine does. Bodies are framed by Content-Length or chunked
/// encoding and never parsed further, so a request inside a body is not taken for one. After
/// a head with `Upgrade:` (the attach hijack) every further byte is raw stream. One framer per
/// connection; not thread-safe.
class RequestFramer {
 public:
  static constexpr std::size_t kMaxHead = 64 * 1024;  ///< a longer head or chunk line is refused

  struct Head {
    std::string method;
    std::string target;  ///< as sent: "/v1.41/containers/x/kill?signal=KILL"
    bool upgrade = false;
  };
  /// Decides on a complete head before it moves: false holds it (and all after it) in `in`.
  using Admit = std::function<bool(const Head&)>;

  enum class Result {
    kIdle,      ///< all movable bytes moved, or more input is needed
    kHeld,      ///< a head waits at the front of `in`, refused by `admit`
    kUpgraded,  ///< an upgrade head just moved: the caller marks the hijack, then pumps on
    kBadInput,  ///< an oversized head or chunk line: end the connection
  };

  /// Moves request parts from the front of `in` to the end of `out` while `out` is under
  /// `limit` bytes. Raw bytes after an upgrade move only if `raw_may_move`.
  Result pump(std::string& in, std::string& out, std::size_t limit, const Admit& admit, bool raw_may_move);

  /// True once an upgrade head (or something that is not HTTP) went through.
  bool raw() const { return phase_ == Phase::kRaw; }

 private:
  enum class Phase { kHead, kLength, kChunkSize, kChunkData, kTrailer, kRaw };

  Result takeHead(std::string& in, std::string& out, const Admit& admit);
  void readHeaders(const std::string& lower_head);

  Phase phase_ = Phase::kHead;
  std::uint64_t remaining_ = 0;  // body or chunk bytes still to move
};

}  // namespace dray::test

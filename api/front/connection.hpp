#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "api/front/chunked_decoder.hpp"
#include "api/front/front_options.hpp"
#include "api/front/request_head.hpp"
#include "api/front/tls_session.hpp"
#include "api/http_types.hpp"

namespace dray::api {

using FrontClock = std::chrono::steady_clock;

/// One client connection of the front, driven by its I/O thread only: reads the head and
/// body without blocking, under the front's limits and timeouts, hands a complete request
/// out (takeRequest) and writes the answer back (respond). A client that is slow, silent
/// or oversized costs this small object, never a thread.
class Connection {
 public:
  enum class Phase { kHandshake, kReadingHead, kReadingBody, kDispatched, kWriting, kLingering, kClosed };

  /// Takes ownership of `fd`, an accepted non-blocking socket.
  Connection(std::uint64_t id, int fd, std::string peer, const FrontOptions& options,
             const Poco::Net::Context::Ptr& tls, FrontClock::time_point now);
  ~Connection();
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  std::uint64_t id() const { return id_; }
  int fd() const { return fd_; }
  const std::string& peer() const { return peer_; }
  Phase phase() const { return phase_; }
  bool closed() const { return phase_ == Phase::kClosed; }

  /// poll() events this connection waits for now.
  short pollEvents() const;
  /// When it gives up waiting (time_point::max() while a handler runs).
  FrontClock::time_point deadline() const { return deadline_; }

  /// Does the I/O that `revents` allows and moves the request on.
  void onEvents(short revents, FrontClock::time_point now);
  /// The deadline passed: answers 408 where a request was under way, then closes.
  void onDeadline(FrontClock::time_point now);

  /// A request whose head and body are complete, once; the connection then waits for respond().
  std::optional<Request> takeRequest();
  bool keepAlive() const { return head_.keep_alive; }
  /// The answer to the taken request: its encoded head and its body. With `stream`, the
  /// body follows piece by piece: see takeStreamRequest and continueStream.
  void respond(std::string head, std::string body, bool keep_alive, FrontClock::time_point now,
               std::shared_ptr<BodyProducer> stream = nullptr);
  /// The producer whose next piece is wanted now (everything before it was written), once.
  std::shared_ptr<BodyProducer> takeStreamRequest();
  /// The next piece of a streamed body, already in chunk framing; `last` ends the body.
  void continueStream(std::string chunk, bool last, FrontClock::time_point now);
  /// Closes the socket at once (e.g. a streamed body that cannot be finished).
  void close();

 private:
  void readAndProcess(FrontClock::time_point now);
  void process(FrontClock::time_point now);
  bool processHead(FrontClock::time_point now);
  bool processBody(FrontClock::time_point now);
  void fail(int status, const std::string& message, FrontClock::time_point now);
  void send(std::string head, std::string body, bool close_after, FrontClock::time_point now);
  void flush(FrontClock::time_point now);
  void linger(FrontClock::time_point now);
  // Raw transport: plain socket or TLS. >0 bytes, 0 would block, kPeerFinished when the
  // client closed its side (plain TCP), -1 closed or failed.
  static constexpr long kPeerFinished = -2;
  long receive(char* buffer, std::size_t size);
  long transmit(const char* data, std::size_t size);

  std::uint64_t id_;
  int fd_;
  std::string peer_;
  const FrontOptions& options_;
  std::unique_ptr<TlsSession> tls_;
  bool tls_wants_write_ = false;
  bool tls_wants_read_ = false;

  Phase phase_;
  FrontClock::time_point deadline_;
  std::string in_;
  RequestHead head_;
  std::optional<ChunkedDecoder> chunked_;
  std::string body_;
  bool request_ready_ = false;
  std::string out_[2];  // head, body: written in turn
  std::size_t out_part_ = 0;
  std::size_t out_offset_ = 0;
  bool close_after_write_ = false;
  std::size_t lingered_ = 0;
  bool idle_ = false;                     // keep-alive, waiting for the first byte of the next request
  std::shared_ptr<BodyProducer> stream_;  // the body still being produced, if any
  bool stream_wanted_ = false;            // its next piece may be asked for
};

}  // namespace dray::api

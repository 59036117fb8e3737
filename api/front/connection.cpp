#include "api/front/connection.hpp"

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>

#include <Poco/URI.h>
#include <spdlog/spdlog.h>

#include "api/front/response_encoder.hpp"

namespace dray::api {
namespace {

constexpr std::size_t kReadChunk = 16 * 1024;
// After an error answer the client may still be sending; reading (and dropping) a little
// of it before closing keeps the kernel from resetting the connection before the client
// has read the answer.
constexpr std::size_t kMaxLingerBytes = 1 << 20;
constexpr auto kLingerTime = std::chrono::seconds(2);
constexpr auto kNever = FrontClock::time_point::max();

// Path and query of a request target. Throws Poco::SyntaxException on a malformed one.
void splitTarget(const std::string& target, Request& request) {
  Poco::URI uri(target);
  request.path = uri.getPath();
  for (auto& [key, value] : uri.getQueryParameters()) request.query.emplace(key, value);
}

}  // namespace

Connection::Connection(std::uint64_t id, int fd, std::string peer, const FrontOptions& options,
                       const Poco::Net::Context::Ptr& tls, FrontClock::time_point now)
    : id_(id), fd_(fd), peer_(std::move(peer)), options_(options) {
  int on = 1;
  ::setsockopt(fd_, IPPROTO_TCP, TCP_NODELAY, &on, sizeof on);  // answers go out whole, at once
  if (tls) tls_ = std::make_unique<TlsSession>(tls, fd_);
  phase_ = tls_ ? Phase::kHandshake : Phase::kReadingHead;
  // A new connection must send its head (or finish its handshake) within the header timeout.
  deadline_ = now + options_.header_timeout;
}

Connection::~Connection() { close(); }

short Connection::pollEvents() const {
  short events = 0;
  switch (phase_) {
    case Phase::kHandshake:
    case Phase::kReadingHead:
    case Phase::kReadingBody:
    case Phase::kLingering:
      events = POLLIN;
      break;
    case Phase::kWriting:
      events = POLLOUT;
      break;
    case Phase::kDispatched:
      // A streamed answer parked until events come (a live event stream) may wait long:
      // learn that the client went away meanwhile, without reading (POLLIN would spin on a
      // pipelined request), so a gone follower frees its slot at once. Only while parked:
      // a client that half-closes after its request still gets a log streamed whole.
      if (stream_ && stream_->parked()) events = POLLRDHUP;
      break;
    case Phase::kClosed:
      break;
  }
  if (tls_wants_write_) events |= POLLOUT;
  if (tls_wants_read_) events |= POLLIN;
  return events;
}

long Connection::receive(char* buffer, std::size_t size) {
  if (tls_) {
    std::size_t got = 0;
    auto io = tls_->read(buffer, size, got);
    // Only the other direction is remembered: a read that wants more input is what the
    // phase's own POLLIN covers, and keeping it would poll a dispatched connection (spin).
    tls_wants_write_ = io == TlsSession::Io::kWantWrite;
    tls_wants_read_ = false;
    if (io == TlsSession::Io::kOk) return static_cast<long>(got);
    if (io == TlsSession::Io::kWantRead || io == TlsSession::Io::kWantWrite) return 0;
    return -1;
  }
  ssize_t got = ::recv(fd_, buffer, size, 0);
  if (got > 0) return got;
  if (got == 0) return kPeerFinished;
  if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) return 0;
  return -1;
}

long Connection::transmit(const char* data, std::size_t size) {
  if (tls_) {
    std::size_t written = 0;
    auto io = tls_->write(data, size, written);
    tls_wants_read_ = io == TlsSession::Io::kWantRead;
    tls_wants_write_ = false;
    if (io == TlsSession::Io::kOk) return static_cast<long>(written);
    if (io == TlsSession::Io::kWantRead || io == TlsSession::Io::kWantWrite) return 0;
    return -1;
  }
  ssize_t sent = ::send(fd_, data, size, MSG_NOSIGNAL);
  if (sent >= 0) return sent;
  if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) return 0;
  return -1;
}

void Connection::onEvents(short revents, FrontClock::time_point now) {
  if (phase_ == Phase::kClosed) return;
  if (phase_ == Phase::kHandshake) {
    auto io = tls_->handshake();
    tls_wants_write_ = io == TlsSession::Io::kWantWrite;
    if (io == TlsSession::Io::kOk) {
      phase_ = Phase::kReadingHead;
      readAndProcess(now);
    } else if (io != TlsSession::Io::kWantRead && io != TlsSession::Io::kWantWrite) {
      spdlog::debug("{}: TLS handshake failed: {}", peer_, tls_->error());
      close();
    }
    return;
  }
  if (phase_ == Phase::kDispatched && stream_ && stream_->parked() && (revents & (POLLRDHUP | POLLHUP | POLLERR))) {
    close();  // the client of a streamed answer left
    return;
  }
  if (phase_ == Phase::kWriting) {
    flush(now);
  } else if (phase_ == Phase::kLingering) {
    linger(now);
  } else if ((revents & (POLLIN | POLLHUP | POLLERR)) || tls_wants_read_ || tls_wants_write_) {
    readAndProcess(now);
  }
}

void Connection::readAndProcess(FrontClock::time_point now) {
  char buffer[kReadChunk];
  while (phase_ == Phase::kReadingHead || phase_ == Phase::kReadingBody) {
    long got = receive(buffer, sizeof buffer);
    if (got == 0) break;
    if (got == kPeerFinished && (phase_ == Phase::kReadingBody || !in_.empty())) {
      // The client sent part of a request and closed its side: it can still read the answer.
      fail(400,
           phase_ == Phase::kReadingBody ? "the request ended before its body was complete"
                                         : "the request ended before its head was complete",
           now);
      return;
    }
    if (got < 0) {  // the client left between requests (or broke TLS); nothing to answer
      close();
      return;
    }
    if (idle_) {  // the next request began: its head gets the header timeout from now
      idle_ = false;
      deadline_ = now + options_.header_timeout;
    }
    in_.append(buffer, static_cast<std::size_t>(got));
    process(now);
  }
}

void Connection::process(FrontClock::time_point now) {
  for (;;) {
    if (phase_ == Phase::kReadingHead && !processHead(now)) return;
    if (phase_ == Phase::kReadingBody && !processBody(now)) return;
    if (phase_ != Phase::kReadingHead && phase_ != Phase::kReadingBody) return;
  }
}

// True when the head was complete and the phase moved on.
bool Connection::processHead(FrontClock::time_point now) {
  std::size_t end = findHeadEnd(in_);
  if (end == 0) {
    if (in_.size() > options_.max_header_bytes)
      fail(431, "request head larger than " + std::to_string(options_.max_header_bytes) + " bytes", now);
    return false;
  }
  if (end > options_.max_header_bytes + 4) {
    fail(431, "request head larger than " + std::to_string(options_.max_header_bytes) + " bytes", now);
    return false;
  }
  auto parsed = parseRequestHead(std::string_view(in_).substr(0, end), options_.max_header_fields, options_.max_body);
  in_.erase(0, end);
  if (auto* error = std::get_if<HeadError>(&parsed)) {
    fail(error->status, error->message, now);
    return false;
  }
  head_ = std::move(std::get<RequestHead>(parsed));
  body_.clear();
  if (head_.framing == BodyFraming::kNone) {
    request_ready_ = true;
    phase_ = Phase::kDispatched;
    deadline_ = kNever;
    return true;
  }
  if (head_.framing == BodyFraming::kChunked) chunked_.emplace(options_.max_body);
  phase_ = Phase::kReadingBody;
  deadline_ = now + options_.body_timeout;
  if (head_.expect_continue) {
    std::string_view go = kContinueResponse;
    transmit(go.data(), go.size());  // tiny: fits the empty send buffer of a waiting client
  }
  return true;
}

bool Connection::processBody(FrontClock::time_point now) {
  if (in_.empty()) return false;
  deadline_ = now + options_.body_timeout;  // the body keeps flowing
  if (head_.framing == BodyFraming::kLength) {
    std::size_t take = std::min(head_.content_length - body_.size(), in_.size());
    body_.append(in_, 0, take);
    in_.erase(0, take);
    if (body_.size() < head_.content_length) return false;
  } else {
    std::size_t consumed = 0;
    auto result = chunked_->feed(in_, consumed, body_);
    in_.erase(0, consumed);
    if (result == ChunkedDecoder::Result::kTooLarge) {
      fail(413, "request body is larger than " + std::to_string(options_.max_body) + " bytes", now);
      return false;
    }
    if (result == ChunkedDecoder::Result::kMalformed) {
      fail(400, "malformed chunked body", now);
      return false;
    }
    if (result == ChunkedDecoder::Result::kNeedMore) return false;
    chunked_.reset();
  }
  request_ready_ = true;
  phase_ = Phase::kDispatched;
  deadline_ = kNever;
  return true;
}

std::optional<Request> Connection::takeRequest() {
  if (!request_ready_) return std::nullopt;
  request_ready_ = false;
  Request request;
  request.method = head_.method;
  request.headers = std::move(head_.fields);
  request.body = std::move(body_);
  request.peer = peer_;
  try {
    splitTarget(head_.target, request);
  } catch (const std::exception& e) {
    fail(400, "malformed request target: " + std::string(e.what()), FrontClock::now());
    return std::nullopt;
  }
  return request;
}

void Connection::respond(std::string head, std::string body, bool keep_alive, FrontClock::time_point now,
                         std::shared_ptr<BodyProducer> stream) {
  if (phase_ != Phase::kDispatched) return;
  stream_ = std::move(stream);
  send(std::move(head), std::move(body), !keep_alive, now);
}

std::shared_ptr<BodyProducer> Connection::takeStreamRequest() {
  if (!stream_wanted_) return nullptr;
  stream_wanted_ = false;
  return stream_;
}

void Connection::continueStream(std::string chunk, bool last, FrontClock::time_point now) {
  if (phase_ != Phase::kDispatched || !stream_) return;
  if (last) stream_.reset();
  out_[0] = std::move(chunk);
  out_[1].clear();
  out_part_ = 0;
  out_offset_ = 0;
  phase_ = Phase::kWriting;
  deadline_ = now + options_.body_timeout;
  flush(now);
}

void Connection::fail(int status, const std::string& message, FrontClock::time_point now) {
  spdlog::debug("{}: {} {}", peer_, status, message);
  send(encodeResponse(errorResponse(status, message), false), "", true, now);
}

void Connection::send(std::string head, std::string body, bool close_after, FrontClock::time_point now) {
  out_[0] = std::move(head);
  out_[1] = std::move(body);
  out_part_ = 0;
  out_offset_ = 0;
  close_after_write_ = close_after;
  phase_ = Phase::kWriting;
  deadline_ = now + options_.body_timeout;
  flush(now);
}

void Connection::flush(FrontClock::time_point now) {
  for (; out_part_ < 2; ++out_part_, out_offset_ = 0) {
    std::string& part = out_[out_part_];
    while (out_offset_ < part.size()) {
      long sent = transmit(part.data() + out_offset_, part.size() - out_offset_);
      if (sent < 0) {
        close();
        return;
      }
      if (sent == 0) return;  // wait for POLLOUT
      out_offset_ += static_cast<std::size_t>(sent);
      deadline_ = now + options_.body_timeout;
    }
    std::string().swap(part);  // a big body's memory goes back now, not at the next answer
  }
  if (stream_) {  // written so far: wait (no thread, no timer) for the next piece
    phase_ = Phase::kDispatched;
    deadline_ = kNever;
    stream_wanted_ = true;
    return;
  }
  if (close_after_write_) {
    if (tls_) tls_->close();
    ::shutdown(fd_, SHUT_WR);
    phase_ = Phase::kLingering;
    deadline_ = now + kLingerTime;
    linger(now);
    return;
  }
  // Keep-alive: wait for the next request (maybe already buffered) for the idle timeout.
  head_ = RequestHead{};
  phase_ = Phase::kReadingHead;
  idle_ = in_.empty();
  deadline_ = idle_ ? now + options_.idle_timeout : now + options_.header_timeout;
  process(now);
  if (phase_ == Phase::kReadingHead || phase_ == Phase::kReadingBody) readAndProcess(now);
}

void Connection::linger(FrontClock::time_point) {
  char buffer[kReadChunk];
  for (;;) {
    long got = receive(buffer, sizeof buffer);
    if (got == 0) return;
    lingered_ += got > 0 ? static_cast<std::size_t>(got) : 0;
    if (got < 0 || lingered_ > kMaxLingerBytes) {
      close();
      return;
    }
  }
}

void Connection::onDeadline(FrontClock::time_point now) {
  switch (phase_) {
    case Phase::kReadingHead:
      if (in_.empty()) {
        close();  // idle keep-alive or a client that never spoke: nothing to answer
      } else {
        fail(408, "the request head did not arrive within " + std::to_string(options_.header_timeout.count()) + " ms",
             now);
      }
      break;
    case Phase::kReadingBody:
      fail(408, "the request body stopped for " + std::to_string(options_.body_timeout.count()) + " ms", now);
      break;
    case Phase::kDispatched:
      break;
    default:
      close();
  }
}

void Connection::close() {
  if (phase_ == Phase::kClosed) return;
  phase_ = Phase::kClosed;
  deadline_ = kNever;
  tls_.reset();
  ::close(fd_);
}

}  // namespace dray::api

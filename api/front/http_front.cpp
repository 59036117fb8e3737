#include "api/front/http_front.hpp"

#include <fcntl.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string_view>

#include <Poco/Net/SocketAddress.h>
#include <spdlog/spdlog.h>

#include "api/front/response_encoder.hpp"

namespace dray::api {
namespace {

constexpr auto kMaxPollWait = std::chrono::milliseconds(1000);

// Answers a client over its per-address cap without reading anything: plain HTTP only
// (a TLS client would not understand it before a handshake), best effort, then close.
void refuse(int fd, bool plain) {
  if (plain) {
    std::string answer = encodeResponse(errorResponse(503, "too many connections from your address"), false);
    [[maybe_unused]] auto sent = ::send(fd, answer.data(), answer.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
  }
  ::close(fd);
}

}  // namespace

HttpFront::HttpFront(FrontOptions options, RequestHandler handler)
    : options_(std::move(options)), handler_(std::move(handler)) {
  if (options_.tls.enabled()) tls_ = makeServerTlsContext(options_.tls);
  listener_.bind(Poco::Net::SocketAddress(options_.listen_address, options_.port), true);
  listener_.listen(1024);
  listener_.setBlocking(false);
  int pipe_fds[2];
  if (::pipe2(pipe_fds, O_NONBLOCK | O_CLOEXEC) != 0)
    throw std::runtime_error("cannot create the front's wake-up pipe");
  wake_read_ = pipe_fds[0];
  wake_write_ = pipe_fds[1];
}

HttpFront::~HttpFront() {
  stop();
  ::close(wake_read_);
  ::close(wake_write_);
}

std::uint16_t HttpFront::port() const { return listener_.address().port(); }

void HttpFront::start() {
  handlers_ = std::make_unique<HandlerPool>(options_.handler_threads);
  {
    std::lock_guard lock(gate_->mutex);
    gate_->front = this;
  }
  io_thread_ = std::thread([this] { loop(); });
}

void HttpFront::stop() {
  if (stopping_.exchange(true)) return;
  {
    std::lock_guard lock(gate_->mutex);  // waits for a wake-up that is posting right now
    gate_->front = nullptr;
  }
  wake();
  if (io_thread_.joinable()) io_thread_.join();
  if (handlers_) handlers_->stop();
  connections_.clear();
  listener_.close();
}

void HttpFront::wake() {
  char byte = 1;
  [[maybe_unused]] auto written = ::write(wake_write_, &byte, 1);  // a full pipe already wakes the loop
}

void HttpFront::loop() {
  std::vector<pollfd> fds;
  std::vector<Connection*> polled;
  const int listen_fd = listener_.impl()->sockfd();
  while (!stopping_) {
    auto now = FrontClock::now();
    auto next = now + kMaxPollWait;
    fds.clear();
    polled.clear();
    fds.push_back({wake_read_, POLLIN, 0});
    // At the connection cap (or out of descriptors), new clients wait in the listen backlog.
    const bool accepting = connections_.size() < options_.max_connections && now >= accept_paused_until_;
    fds.push_back({accepting ? listen_fd : -1, POLLIN, 0});
    if (!accepting && now < accept_paused_until_) next = std::min(next, accept_paused_until_);
    for (auto& [id, connection] : connections_) {
      short events = connection->pollEvents();
      fds.push_back({events ? connection->fd() : -1, events, 0});
      polled.push_back(connection.get());
      next = std::min(next, connection->deadline());
    }
    auto wait = std::chrono::ceil<std::chrono::milliseconds>(std::max(next - now, FrontClock::duration::zero()));
    if (::poll(fds.data(), fds.size(), static_cast<int>(wait.count())) < 0 && errno != EINTR) {
      spdlog::error("HTTP front: poll failed: {}", std::strerror(errno));
    }
    now = FrontClock::now();
    if (fds[0].revents) {
      char drain[256];
      while (::read(wake_read_, drain, sizeof drain) > 0) {
      }
      takeCompletions(now);
    }
    for (std::size_t i = 0; i < polled.size(); ++i) {
      if (!fds[i + 2].revents) continue;
      polled[i]->onEvents(fds[i + 2].revents, now);
      dispatch(*polled[i]);
    }
    for (auto it = connections_.begin(); it != connections_.end();) {
      Connection& connection = *it->second;
      if (!connection.closed() && connection.deadline() <= now) connection.onDeadline(now);
      it = connection.closed() ? (forget(it), connections_.erase(it)) : std::next(it);
    }
    if (fds[1].revents & POLLIN) acceptAll(now);
  }
}

void HttpFront::forget(std::map<std::uint64_t, std::unique_ptr<Connection>>::iterator it) {
  auto peer = per_peer_.find(it->second->peer());
  if (peer != per_peer_.end() && --peer->second == 0) per_peer_.erase(peer);
}

void HttpFront::acceptAll(FrontClock::time_point now) {
  const int listen_fd = listener_.impl()->sockfd();
  while (connections_.size() < options_.max_connections) {
    sockaddr_storage address{};
    socklen_t length = sizeof address;
    int fd = ::accept4(listen_fd, reinterpret_cast<sockaddr*>(&address), &length, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd < 0) {
      if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM) {
        // The pending client stays in the backlog; polling the listener now would spin.
        spdlog::warn("HTTP front: cannot accept ({}), {} connections open; pausing accepts for 200 ms",
                     std::strerror(errno), connections_.size());
        accept_paused_until_ = now + std::chrono::milliseconds(200);
      }
      return;  // EAGAIN: all taken
    }
    std::string peer = Poco::Net::SocketAddress(reinterpret_cast<sockaddr*>(&address), length).host().toString();
    if (per_peer_[peer] >= options_.max_connections_per_ip) {
      spdlog::debug("{}: refused, already {} connections from this address", peer, per_peer_[peer]);
      refuse(fd, !tls_);
      continue;
    }
    std::unique_ptr<Connection> made;
    try {
      made = std::make_unique<Connection>(next_id_, fd, peer, options_, tls_, now);
    } catch (const std::exception& e) {
      spdlog::warn("HTTP front: cannot take a connection from {}: {}", peer, e.what());
      ::close(fd);
      continue;
    }
    ++per_peer_[peer];
    auto& connection = connections_[next_id_++];
    connection = std::move(made);
    // Data may have arrived with the connection (or TLS needs a first step).
    connection->onEvents(POLLIN, now);
    dispatch(*connection);
  }
}

void HttpFront::dispatch(Connection& connection) {
  if (auto stream = connection.takeStreamRequest()) {
    produceNextPiece(connection.id(), std::move(stream));
    return;
  }
  auto request = connection.takeRequest();
  if (!request) return;
  bool keep_alive = connection.keepAlive();
  handlers_->post([this, id = connection.id(), keep_alive, request = std::move(*request)]() mutable {
    const bool head_only = request.method == "HEAD";  // the length is announced, the body never sent
    Response response = handler_(request);
    const bool keep = keep_alive && !stopping_;
    if (!hasBody(response.status) || head_only) {
      response.body.clear();
      response.stream.reset();
    }
    std::string head = encodeHead(response, keep);
    complete({id, std::move(head), std::move(response.body), keep, std::move(response.stream)});
  });
}

// One piece per task: the I/O thread asks again only when this one was written. A stream
// with nothing to send parks, holding no thread, until its producer calls wake().
void HttpFront::produceNextPiece(std::uint64_t connection, std::shared_ptr<BodyProducer> stream) {
  handlers_->post([this, connection, stream = std::move(stream)] {
    Completion done{connection, "", ""};
    done.piece = true;
    try {
      std::optional<std::string> piece;
      for (;;) {
        stream->beforeNext();
        piece = stream->next();
        if (!piece || !piece->empty()) break;
        auto resume = [gate = gate_, connection, weak = std::weak_ptr<BodyProducer>(stream)] {
          std::lock_guard lock(gate->mutex);
          auto parked = weak.lock();  // gone: the connection closed meanwhile
          if (gate->front && parked) gate->front->produceNextPiece(connection, std::move(parked));
        };
        if (stream->parkUnlessWoken(std::move(resume))) return;
      }
      if (piece) {
        done.body = encodeChunk(*piece);
      } else {
        done.body = kLastChunk;
        done.last = true;
      }
    } catch (const std::exception& e) {
      spdlog::warn("HTTP front: a streamed answer failed midway, the body is cut: {}", e.what());
      done.cut = true;
    }
    complete(std::move(done));
  });
}

void HttpFront::complete(Completion completion) {
  {
    std::lock_guard lock(completions_mutex_);
    completions_.push_back(std::move(completion));
  }
  wake();
}

void HttpFront::takeCompletions(FrontClock::time_point now) {
  std::vector<Completion> done;
  {
    std::lock_guard lock(completions_mutex_);
    done.swap(completions_);
  }
  for (auto& completion : done) {
    auto it = connections_.find(completion.connection);
    if (it == connections_.end()) continue;  // the client left meanwhile
    Connection& connection = *it->second;
    if (completion.cut) {
      connection.close();
    } else if (completion.piece) {
      connection.continueStream(std::move(completion.body), completion.last, now);
    } else {
      connection.respond(std::move(completion.head), std::move(completion.body), completion.keep_alive, now,
                         std::move(completion.stream));
    }
    dispatch(connection);  // the next piece, or a pipelined request that is complete already
  }
}

}  // namespace dray::api

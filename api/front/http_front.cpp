#include "api/front/http_front.hpp"

#include <fcntl.h>
#include <poll.h>
#include <sys/epoll.h>
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

namespace {
constexpr std::uint64_t kWakeKey = 0;  // connection ids start at 1
constexpr std::uint64_t kListenerKey = ~std::uint64_t{0};

// poll()'s flags and epoll's have the same values on Linux, so Connection speaks poll's.
static_assert(POLLIN == EPOLLIN && POLLOUT == EPOLLOUT && POLLRDHUP == EPOLLRDHUP && POLLHUP == EPOLLHUP &&
              POLLERR == EPOLLERR);

void control(int epoll_fd, int operation, int fd, std::uint32_t events, std::uint64_t key) {
  epoll_event event{};
  event.events = events;
  event.data.u64 = key;
  if (::epoll_ctl(epoll_fd, operation, fd, &event) != 0 && operation != EPOLL_CTL_DEL)
    spdlog::error("HTTP front: epoll_ctl failed: {}", std::strerror(errno));
}
}  // namespace

// epoll, not poll(): a round of the loop then costs the kernel the ready descriptors, not
// every open one (hundreds of parked event streams, woken together by a job's change).
void HttpFront::loop() {
  const int epoll_fd = ::epoll_create1(EPOLL_CLOEXEC);
  if (epoll_fd < 0) {
    spdlog::critical("HTTP front: cannot create an epoll instance: {}", std::strerror(errno));
    return;
  }
  control(epoll_fd, EPOLL_CTL_ADD, wake_read_, EPOLLIN, kWakeKey);
  const int listen_fd = listener_.impl()->sockfd();
  bool listening = false;
  std::vector<epoll_event> ready(256);
  std::vector<std::pair<std::uint64_t, short>> ready_connections;  // id, events
  while (!stopping_) {
    auto now = FrontClock::now();
    auto next = now + kMaxPollWait;
    // At the connection cap (or out of descriptors), new clients wait in the listen backlog.
    const bool accepting = connections_.size() < options_.max_connections && now >= accept_paused_until_;
    if (accepting != listening) {
      control(epoll_fd, accepting ? EPOLL_CTL_ADD : EPOLL_CTL_DEL, listen_fd, EPOLLIN, kListenerKey);
      listening = accepting;
    }
    if (!accepting && now < accept_paused_until_) next = std::min(next, accept_paused_until_);
    for (auto& [id, connection] : connections_) {
      watch(epoll_fd, *connection);
      next = std::min(next, connection->deadline());
    }
    auto wait = std::chrono::ceil<std::chrono::milliseconds>(std::max(next - now, FrontClock::duration::zero()));
    const int count =
        ::epoll_wait(epoll_fd, ready.data(), static_cast<int>(ready.size()), static_cast<int>(wait.count()));
    if (count < 0 && errno != EINTR) spdlog::error("HTTP front: epoll_wait failed: {}", std::strerror(errno));
    now = FrontClock::now();
    bool woken = false, incoming = false;
    ready_connections.clear();
    for (int i = 0; i < count; ++i) {
      const std::uint64_t key = ready[static_cast<std::size_t>(i)].data.u64;
      if (key == kWakeKey) {
        woken = true;
      } else if (key == kListenerKey) {
        incoming = true;
      } else {
        ready_connections.emplace_back(key, static_cast<short>(ready[static_cast<std::size_t>(i)].events));
      }
    }
    if (woken) {
      char drain[256];
      while (::read(wake_read_, drain, sizeof drain) > 0) {
      }
      takeCompletions(now);
    }
    for (const auto& [key, events] : ready_connections) {
      auto it = connections_.find(key);
      if (it == connections_.end() || it->second->closed()) continue;
      it->second->onEvents(events, now);
      dispatch(*it->second);
    }
    for (auto it = connections_.begin(); it != connections_.end();) {
      Connection& connection = *it->second;
      if (!connection.closed() && connection.deadline() <= now) connection.onDeadline(now);
      it = connection.closed() ? (forget(it), connections_.erase(it)) : std::next(it);
    }
    if (incoming) acceptAll(now);
    postWantedPieces();
  }
  ::close(epoll_fd);
}

// Keeps the connection's registration in step with what it waits for. A connection that
// waits for nothing (a handler has its request) is taken out: epoll would still report a
// hang-up for it, again and again.
void HttpFront::watch(int epoll_fd, Connection& connection) {
  const auto events = static_cast<std::uint32_t>(static_cast<unsigned short>(connection.pollEvents()));
  auto [it, added] = watched_.try_emplace(connection.id(), 0u);
  if (it->second == events) return;
  if (events == 0) {
    control(epoll_fd, EPOLL_CTL_DEL, connection.fd(), 0, connection.id());
  } else {
    control(epoll_fd, it->second == 0 ? EPOLL_CTL_ADD : EPOLL_CTL_MOD, connection.fd(), events, connection.id());
  }
  it->second = events;
}

void HttpFront::forget(std::map<std::uint64_t, std::unique_ptr<Connection>>::iterator it) {
  watched_.erase(it->first);  // its descriptor is closed: the kernel dropped its registration
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
    wanted_.push_back({connection.id(), std::move(stream)});  // posted at the end of the round
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

namespace {
constexpr std::size_t kPiecesPerTask = 32;  // streams served one after another by one handler task
}  // namespace

// From another thread: a parked stream was woken.
void HttpFront::resume(std::uint64_t connection, std::shared_ptr<BodyProducer> stream) {
  bool first = false;
  {
    std::lock_guard lock(resumed_mutex_);
    first = resumed_.empty();
    resumed_.push_back({connection, std::move(stream)});
  }
  if (first) wake();  // the I/O thread takes them all at the end of its round
}

// At the end of each round of the I/O loop: the pieces wanted in it, in a few tasks.
void HttpFront::postWantedPieces() {
  {
    std::lock_guard lock(resumed_mutex_);
    for (auto& wanted : resumed_) wanted_.push_back(std::move(wanted));
    resumed_.clear();
  }
  if (wanted_.empty()) return;
  const std::size_t tasks = (wanted_.size() + kPiecesPerTask - 1) / kPiecesPerTask;
  const std::size_t per_task = (wanted_.size() + tasks - 1) / tasks;
  for (std::size_t first = 0; first < wanted_.size(); first += per_task) {
    const auto begin = wanted_.begin() + static_cast<std::ptrdiff_t>(first);
    const auto end = wanted_.begin() + static_cast<std::ptrdiff_t>(std::min(first + per_task, wanted_.size()));
    handlers_->post([this, batch = std::vector<WantedPiece>(std::make_move_iterator(begin),
                                                            std::make_move_iterator(end))] { producePieces(batch); });
  }
  wanted_.clear();
}

void HttpFront::producePieces(const std::vector<WantedPiece>& batch) {
  std::vector<Completion> done;
  for (const auto& wanted : batch) {
    if (auto piece = producePiece(wanted.connection, wanted.stream)) done.push_back(std::move(*piece));
  }
  if (!done.empty()) complete(std::move(done));
}

// A stream with nothing to send parks, holding no thread, until its producer calls wake().
std::optional<HttpFront::Completion> HttpFront::producePiece(std::uint64_t connection,
                                                             const std::shared_ptr<BodyProducer>& stream) {
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
        if (gate->front && parked) gate->front->resume(connection, std::move(parked));
      };
      if (stream->parkUnlessWoken(std::move(resume))) return std::nullopt;
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
  return done;
}

void HttpFront::complete(Completion completion) {
  std::vector<Completion> one;
  one.push_back(std::move(completion));
  complete(std::move(one));
}

void HttpFront::complete(std::vector<Completion> completions) {
  bool first = false;
  {
    std::lock_guard lock(completions_mutex_);
    first = completions_.empty();
    for (auto& completion : completions) completions_.push_back(std::move(completion));
  }
  // The I/O thread takes all completions at once after a wake-up: one is enough for many.
  if (first) wake();
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

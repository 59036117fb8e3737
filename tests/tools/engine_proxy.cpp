#include "tests/tools/engine_proxy.hpp"

#include <poll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <stdexcept>

#include "tests/tools/request_framer.hpp"

namespace dray::test {
namespace {

constexpr std::size_t kMaxBuffer = 256 * 1024;  // per direction: a slow peer costs no more
constexpr std::size_t kReadChunk = 64 * 1024;

sockaddr_un unixAddress(const std::string& path) {
  sockaddr_un address{};
  address.sun_family = AF_UNIX;
  if (path.size() >= sizeof(address.sun_path)) throw std::runtime_error("socket path too long: " + path);
  std::memcpy(address.sun_path, path.c_str(), path.size() + 1);
  return address;
}

void notify(int event_fd) {
  const std::uint64_t one = 1;
  [[maybe_unused]] auto written = ::write(event_fd, &one, sizeof one);  // fails only if it is already signalled
}

// "/v1.41/containers/x/kill?signal=KILL" -> "/containers/x/kill": rules are written once for
// every API version dray may pin.
std::string rulePath(std::string target) {
  target = target.substr(0, target.find('?'));
  if (target.size() > 2 && target[0] == '/' && target[1] == 'v' &&
      std::isdigit(static_cast<unsigned char>(target[2]))) {
    const auto slash = target.find('/', 1);
    const auto version = target.substr(2, slash == std::string::npos ? std::string::npos : slash - 2);
    if (version.find_first_not_of("0123456789.") == std::string::npos) {
      return slash == std::string::npos ? "/" : target.substr(slash);
    }
  }
  return target;
}

}  // namespace

// One client connection and its own upstream connection, served by one thread with poll()
// over both sockets and an eventfd that rule changes and stop() signal.
class EngineProxy::Connection {
 public:
  Connection(EngineProxy& proxy, int client) : proxy_(proxy), client_(client) {
    wake_fd_ = ::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    if (wake_fd_ < 0) {
      ::close(client_);
      throw std::runtime_error("eventfd failed");
    }
  }
  ~Connection() {
    join();
    closeSockets();
    ::close(wake_fd_);
  }
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  void start() {
    thread_ = std::thread([this] {
      if (connectUpstream()) run();
      closeSockets();             // the client sees EOF now, not when the acceptor reaps us
      if (held_) --proxy_.held_;  // a held request that is never forwarded
      done_ = true;
    });
  }
  void wake() { notify(wake_fd_); }
  bool done() const { return done_.load(); }
  void join() {
    if (thread_.joinable()) thread_.join();
  }

 private:
  bool connectUpstream() {
    upstream_ = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    const sockaddr_un address = unixAddress(proxy_.upstream_);
    // Non-blocking: a full engine backlog fails the client at once instead of pinning this thread.
    return upstream_ >= 0 && ::connect(upstream_, reinterpret_cast<const sockaddr*>(&address), sizeof address) == 0;
  }

  void closeSockets() {
    for (int* fd : {&client_, &upstream_}) {
      if (*fd >= 0) ::close(*fd);
      *fd = -1;
    }
  }

  bool frozenNow() const { return attach_ && proxy_.frozen(); }
  // Bytes that may move now; while frozen only what predates the hijack (the upgrade request,
  // earlier responses and the upgrade response head) still passes.
  std::size_t upWritable() const { return frozenNow() ? up_pass_ : up_buf_.size(); }
  std::size_t downWritable() const { return frozenNow() ? down_pass_ : down_buf_.size(); }
  bool readClient() const { return !client_eof_ && !frozenNow() && in_.size() < kMaxBuffer; }
  bool readUpstream() const {
    return !upstream_eof_ && down_buf_.size() < kMaxBuffer && !(frozenNow() && down_head_done_);
  }

  void run() {
    while (!proxy_.stopping_.load()) {
      if (!frame()) return;
      shutDownDrained();
      if (up_shut_ && down_shut_) return;
      pollfd fds[3] = {{client_, 0, 0}, {upstream_, 0, 0}, {wake_fd_, POLLIN, 0}};
      if (readClient()) fds[0].events |= POLLIN;
      if (downWritable() > 0) fds[0].events |= POLLOUT;
      if (readUpstream()) fds[1].events |= POLLIN;
      if (upWritable() > 0) fds[1].events |= POLLOUT;
      // A socket with nothing to do stays out of poll: its POLLHUP would spin us.
      for (auto& fd : fds) {
        if (fd.events == 0) fd.fd = -1;
      }
      if (::poll(fds, 3, -1) < 0) {
        if (errno == EINTR) continue;
        return;
      }
      if (fds[2].revents) {
        std::uint64_t count = 0;
        [[maybe_unused]] auto got = ::read(wake_fd_, &count, sizeof count);
      }
      if (!serviceClient(fds[0].revents) || !serviceUpstream(fds[1].revents)) return;
    }
  }

  // Reads and writes what poll reported; false ends the connection.
  bool serviceClient(short revents) {
    if ((revents & POLLOUT) && !send(client_, down_buf_, down_pass_, downWritable())) return false;
    if (revents & POLLIN) {
      if (!receive(client_, in_, client_eof_)) return false;
      if (client_eof_ && held_) return false;  // nobody waits for the held request any more
    } else if (revents & (POLLHUP | POLLERR)) {
      return false;
    }
    return true;
  }

  bool serviceUpstream(short revents) {
    if ((revents & POLLOUT) && !send(upstream_, up_buf_, up_pass_, upWritable())) return false;
    if (revents & POLLIN) {
      const std::size_t before = down_buf_.size();
      if (!receive(upstream_, down_buf_, upstream_eof_)) return false;
      if (attach_ && !down_head_done_) passUpgradeHead(before);
    } else if (revents & (POLLHUP | POLLERR)) {
      return false;
    }
    return true;
  }

  // The upgrade response head must reach the client even while frozen, or the attach call
  // itself would hang instead of its stream: count its bytes as passable.
  void passUpgradeHead(std::size_t before) {
    const std::size_t from = before >= 3 ? before - 3 : 0;
    auto end = down_buf_.find("\r\n\r\n", from);
    while (end != std::string::npos && end + 4 <= before) end = down_buf_.find("\r\n\r\n", end + 1);
    if (end == std::string::npos) {
      down_pass_ += down_buf_.size() - before;
      return;
    }
    down_pass_ += end + 4 - before;
    down_head_done_ = true;
  }

  static bool receive(int fd, std::string& into, bool& eof) {
    char buffer[kReadChunk];
    const auto room = std::min(kReadChunk, kMaxBuffer - std::min(kMaxBuffer, into.size()));
    const ssize_t n = ::recv(fd, buffer, std::max<std::size_t>(room, 1), MSG_DONTWAIT);
    if (n < 0) return errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR;
    if (n == 0) eof = true;
    into.append(buffer, static_cast<std::size_t>(n));
    return true;
  }

  static bool send(int fd, std::string& from, std::size_t& pass, std::size_t count) {
    const ssize_t n = ::send(fd, from.data(), count, MSG_DONTWAIT | MSG_NOSIGNAL);
    if (n < 0) return errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR;
    from.erase(0, static_cast<std::size_t>(n));
    pass -= std::min(pass, static_cast<std::size_t>(n));
    return true;
  }

  // Half-closes each side once its direction is drained, as the peers did.
  void shutDownDrained() {
    if (client_eof_ && !held_ && in_.empty() && up_buf_.empty() && !up_shut_) {
      up_shut_ = true;
      ::shutdown(upstream_, SHUT_WR);
    }
    if (upstream_eof_ && down_buf_.empty() && !down_shut_) {
      down_shut_ = true;
      ::shutdown(client_, SHUT_WR);
    }
  }

  // Moves complete request parts from in_ to up_buf_, holding heads that match a stall rule;
  // false ends the connection.
  bool frame() {
    for (;;) {
      const auto admit = [this](const RequestFramer::Head& head) { return this->admit(head); };
      const auto result = framer_.pump(in_, up_buf_, kMaxBuffer, admit, !frozenNow());
      if (result == RequestFramer::Result::kBadInput) return false;
      if (result != RequestFramer::Result::kUpgraded) break;
      attach_ = true;  // the hijack: everything after this request is stream
      ++proxy_.upgraded_;
      up_pass_ = up_buf_.size();
      down_pass_ = down_buf_.size();
    }
    // What is left after the client's EOF is an incomplete request: it goes out as it came.
    if (client_eof_ && !held_ && !framer_.raw() && up_buf_.size() < kMaxBuffer) {
      up_buf_ += in_;
      in_.clear();
    }
    return true;
  }

  // Whether a complete head may go on now; the first refusal decides, releaseAll() ends it.
  bool admit(const RequestFramer::Head& head) {
    if (!held_ && proxy_.shouldHold(head.method, head.target, hold_epoch_)) {
      held_ = true;
      ++proxy_.held_;
    }
    if (held_ && !proxy_.released(hold_epoch_)) return false;
    if (held_) {
      held_ = false;
      --proxy_.held_;
    }
    return true;
  }

  EngineProxy& proxy_;
  int client_;
  int upstream_ = -1;
  int wake_fd_ = -1;
  std::thread thread_;
  std::atomic<bool> done_{false};

  std::string in_;        // from the client, not yet framed
  std::string up_buf_;    // framed, to the engine
  std::string down_buf_;  // from the engine, to the client (never parsed)
  std::size_t up_pass_ = 0;
  std::size_t down_pass_ = 0;
  RequestFramer framer_;
  bool held_ = false;
  std::uint64_t hold_epoch_ = 0;
  bool attach_ = false;
  bool down_head_done_ = false;
  bool client_eof_ = false;
  bool upstream_eof_ = false;
  bool up_shut_ = false;
  bool down_shut_ = false;
};

EngineProxy::EngineProxy(std::string upstream_socket, std::string listen_socket)
    : upstream_(std::move(upstream_socket)), listen_(std::move(listen_socket)) {}

EngineProxy::~EngineProxy() { stop(); }

void EngineProxy::start() {
  if (listen_fd_ >= 0) return;
  const sockaddr_un address = unixAddress(listen_);
  wake_fd_ = ::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  listen_fd_ = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  ::unlink(listen_.c_str());
  if (wake_fd_ < 0 || listen_fd_ < 0 ||
      ::bind(listen_fd_, reinterpret_cast<const sockaddr*>(&address), sizeof address) != 0 ||
      ::listen(listen_fd_, 64) != 0) {
    const std::string reason = std::strerror(errno);
    stop();
    throw std::runtime_error("engine proxy cannot listen on " + listen_ + ": " + reason);
  }
  stopping_ = false;
  connections_.reserve(kMaxConnections);
  acceptor_ = std::thread([this] { acceptLoop(); });
}

void EngineProxy::stop() {
  stopping_ = true;
  if (wake_fd_ >= 0) notify(wake_fd_);
  if (acceptor_.joinable()) acceptor_.join();
  std::vector<std::unique_ptr<Connection>> connections;
  {
    std::lock_guard lock(conn_mutex_);
    connections.swap(connections_);
  }
  for (auto& connection : connections) connection->wake();
  connections.clear();  // each destructor joins its thread
  for (int* fd : {&listen_fd_, &wake_fd_}) {
    if (*fd >= 0) ::close(*fd);
    *fd = -1;
  }
  ::unlink(listen_.c_str());
}

void EngineProxy::acceptLoop() {
  while (!stopping_.load()) {
    pollfd fds[2] = {{listen_fd_, POLLIN, 0}, {wake_fd_, POLLIN, 0}};
    if (::poll(fds, 2, -1) < 0 && errno != EINTR) return;
    if (fds[1].revents || !(fds[0].revents & POLLIN)) continue;
    const int client = ::accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
    if (client < 0) continue;
    std::lock_guard lock(conn_mutex_);
    reapFinished();
    if (connections_.size() >= kMaxConnections) {
      ::close(client);  // refused at once: a client over the cap must not hang in the backlog
      continue;
    }
    try {
      auto connection = std::make_unique<Connection>(*this, client);
      connection->start();
      connections_.push_back(std::move(connection));  // room reserved by start(): cannot throw
    } catch (const std::exception&) {
      // eventfd or thread creation failed: the client was closed, the proxy goes on
    }
  }
}

void EngineProxy::reapFinished() {
  std::erase_if(connections_, [](const std::unique_ptr<Connection>& c) { return c->done(); });
}

void EngineProxy::wakeAll() {
  std::lock_guard lock(conn_mutex_);
  for (auto& connection : connections_) connection->wake();
}

std::size_t EngineProxy::stall(const std::string& method, const std::string& path_regex) {
  std::lock_guard lock(rules_mutex_);
  rules_.push_back(Rule{method, std::regex(path_regex), 0, true});
  return rules_.size() - 1;
}

void EngineProxy::freezeStreams() {
  frozen_ = true;
  wakeAll();
}

void EngineProxy::releaseAll() {
  {
    std::lock_guard lock(rules_mutex_);
    for (auto& rule : rules_) rule.active = false;
    frozen_ = false;
    ++epoch_;
  }
  wakeAll();
}

std::size_t EngineProxy::matched(std::size_t rule) const {
  std::lock_guard lock(rules_mutex_);
  return rule < rules_.size() ? rules_[rule].matched : 0;
}

std::size_t EngineProxy::connectionCount() const {
  std::lock_guard lock(conn_mutex_);
  return static_cast<std::size_t>(
      std::count_if(connections_.begin(), connections_.end(), [](const auto& c) { return !c->done(); }));
}

bool EngineProxy::shouldHold(const std::string& method, const std::string& target, std::uint64_t& epoch) {
  const std::string path = rulePath(target);
  std::lock_guard lock(rules_mutex_);
  bool hold = false;
  for (auto& rule : rules_) {
    if (!rule.active || (rule.method != "*" && rule.method != method) || !std::regex_search(path, rule.path)) continue;
    ++rule.matched;
    hold = true;
  }
  epoch = epoch_.load();  // read under the lock releaseAll() bumps it under: no lost release
  return hold;
}

}  // namespace dray::test

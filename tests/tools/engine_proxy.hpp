#pragma once

/// A fault-injecting proxy for the Docker Engine API on UNIX sockets (tests of issue #13).
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <mutex>
#include <regex>
#include <string>
#include <thread>
#include <vector>

namespace dray::test {

/// Sits on `listen_socket` in front of the engine's `upstream_socket` and forwards HTTP/1.1
/// byte for byte: one upstream connection per client connection; requests are framed
/// (head + Content-Length or chunked body) so each can be checked against the stall rules;
/// responses flow back raw, so streamed and chunked ones (/wait, /events) pass untouched.
/// After a request carrying `Upgrade:` (the attach hijack) the connection is a raw pipe.
///
/// Faults: a request matching a stall rule is read but neither forwarded nor answered until
/// releaseAll(); if its client goes away meanwhile it is dropped, never forwarded. While
/// frozen, attach connections past their upgrade response move no bytes either way, but stay
/// open. Rules match the method exactly ("*" matches any) and the path without the `/vX.Y`
/// prefix and without the query, with regex_search (so anchor with ^ and $).
///
/// Threads: one acceptor and one per connection (at most kMaxConnections), all joined by
/// stop(). Every public method is safe from any thread. start()/stop() throw
/// std::runtime_error on socket errors; stop() never blocks on a peer.
class EngineProxy {
 public:
  static constexpr std::size_t kMaxConnections = 256;

  EngineProxy(std::string upstream_socket, std::string listen_socket);
  ~EngineProxy();
  EngineProxy(const EngineProxy&) = delete;
  EngineProxy& operator=(const EngineProxy&) = delete;

  /// Binds the listening socket (replacing a stale file) and starts accepting.
  void start();
  /// Closes every connection (stalled requests are dropped), joins all threads, removes the
  /// socket file. Idempotent.
  void stop();

  /// Holds requests matching `method` and `path_regex` from now on.
  /// @return the rule's id, for matched()
  std::size_t stall(const std::string& method, const std::string& path_regex);
  /// Freezes attach streams, those already hijacked and those to come.
  void freezeStreams();
  /// Drops every rule and the freeze; held requests are forwarded, frozen streams flow.
  void releaseAll();

  /// Requests held right now.
  std::size_t stalledCount() const { return held_.load(); }
  /// Requests that matched rule `rule` since it was added (kept after releaseAll()).
  std::size_t matched(std::size_t rule) const;
  /// Attach (upgrade) requests forwarded so far.
  std::size_t upgradedCount() const { return upgraded_.load(); }
  /// Client connections open right now.
  std::size_t connectionCount() const;

  /// `unix:///path`, for DOCKER_HOST.
  std::string address() const { return "unix://" + listen_; }

 private:
  class Connection;
  friend class Connection;
  struct Rule {
    std::string method;
    std::regex path;
    std::size_t matched = 0;
    bool active = true;
  };

  void acceptLoop();
  void reapFinished();  // joins connections whose thread has ended; caller holds conn_mutex_
  void wakeAll();
  // Called by connections: whether a request is to be held, and the epoch it waits out.
  bool shouldHold(const std::string& method, const std::string& target, std::uint64_t& epoch);
  bool released(std::uint64_t epoch) const { return epoch_.load() != epoch; }
  bool frozen() const { return frozen_.load(); }

  std::string upstream_;
  std::string listen_;
  int listen_fd_ = -1;
  int wake_fd_ = -1;  // eventfd: tells the acceptor to stop
  std::thread acceptor_;
  std::atomic<bool> stopping_{false};

  mutable std::mutex rules_mutex_;
  std::vector<Rule> rules_;
  std::atomic<std::uint64_t> epoch_{0};  // bumped by releaseAll(): held requests go on
  std::atomic<bool> frozen_{false};
  std::atomic<std::size_t> held_{0};
  std::atomic<std::size_t> upgraded_{0};

  mutable std::mutex conn_mutex_;
  std::vector<std::unique_ptr<Connection>> connections_;
};

}  // namespace dray::test

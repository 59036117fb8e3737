#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <thread>
#include <unordered_map>
#include <vector>

#include <Poco/Net/Context.h>
#include <Poco/Net/ServerSocket.h>

#include "api/front/connection.hpp"
#include "api/front/front_options.hpp"
#include "api/front/handler_pool.hpp"
#include "api/http_types.hpp"

namespace dray::api {

/// Turns a complete request into its response. Runs on a handler thread; must not throw.
using RequestHandler = std::function<Response(Request&)>;

/// dray's HTTP/1.1 front: one I/O thread accepts connections and reads heads and bodies
/// with poll(), without blocking, under the limits of FrontOptions; a request whose head
/// and body are complete goes to a HandlerPool thread, and its answer is written back by
/// the I/O thread. So a slow, idle or oversized client holds a few KiB of buffer, never a
/// thread, and the handler threads only ever see complete requests. Optional TLS
/// (OpenSSL through Poco's NetSSL context) runs in the same loop.
class HttpFront {
 public:
  /// Binds the listening socket (throws when it cannot) and loads TLS files.
  HttpFront(FrontOptions options, RequestHandler handler);
  ~HttpFront();
  HttpFront(const HttpFront&) = delete;
  HttpFront& operator=(const HttpFront&) = delete;

  void start();
  /// Stops accepting, lets running handlers finish, closes every connection.
  void stop();
  std::uint16_t port() const;

 private:
  // A handler's answer, or the next piece of a streamed body, for the I/O thread.
  struct Completion {
    std::uint64_t connection;
    std::string head;
    std::string body;  // a piece: already in chunk framing
    bool keep_alive = false;
    std::shared_ptr<BodyProducer> stream{};  // an answer whose body follows piece by piece
    bool piece = false;                      // body is the next piece of a streamed body
    bool last = false;                       // ... and the last one
    bool cut = false;                        // the producer failed: close without the last chunk
  };

  // A stream whose next piece is wanted.
  struct WantedPiece {
    std::uint64_t connection;
    std::shared_ptr<BodyProducer> stream;
  };

  void loop();
  void watch(int epoll_fd, Connection& connection);
  void acceptAll(FrontClock::time_point now);
  void dispatch(Connection& connection);
  void resume(std::uint64_t connection, std::shared_ptr<BodyProducer> stream);
  void postWantedPieces();
  void producePieces(const std::vector<WantedPiece>& batch);
  std::optional<Completion> producePiece(std::uint64_t connection, const std::shared_ptr<BodyProducer>& stream);
  void complete(Completion completion);
  void complete(std::vector<Completion> completions);
  void takeCompletions(FrontClock::time_point now);
  void wake();
  void forget(std::map<std::uint64_t, std::unique_ptr<Connection>>::iterator it);

  // What a parked stream's wake-up reaches: the front until it stops, then nothing (a
  // storage thread may wake a stream while the front goes away).
  struct Gate {
    std::mutex mutex;
    HttpFront* front = nullptr;
  };

  FrontOptions options_;
  RequestHandler handler_;
  std::shared_ptr<Gate> gate_ = std::make_shared<Gate>();
  Poco::Net::Context::Ptr tls_;
  Poco::Net::ServerSocket listener_;
  int wake_read_ = -1;
  int wake_write_ = -1;
  std::atomic<bool> stopping_{false};
  std::thread io_thread_;
  std::unique_ptr<HandlerPool> handlers_;

  // I/O thread only.
  std::map<std::uint64_t, std::unique_ptr<Connection>> connections_;
  std::map<std::string, std::size_t> per_peer_;
  std::unordered_map<std::uint64_t, std::uint32_t> watched_;  // connection id -> events registered
  std::uint64_t next_id_ = 1;
  FrontClock::time_point accept_paused_until_{};

  std::mutex completions_mutex_;
  std::vector<Completion> completions_;

  // Streams whose next piece is wanted. The I/O thread collects them over a round of its
  // loop (wake-ups from other threads come through resumed_) and hands them to the handler
  // threads in batches: a change of a job followed by hundreds wakes hundreds of streams at
  // once, and a task each would wake every handler thread for microseconds of work.
  std::vector<WantedPiece> wanted_;  // I/O thread only
  std::mutex resumed_mutex_;
  std::vector<WantedPiece> resumed_;
};

}  // namespace dray::api

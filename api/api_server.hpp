#pragma once

#include <cstdint>
#include <memory>

#include "api/front/front_options.hpp"
#include "api/front/http_front.hpp"
#include "api/router.hpp"

namespace dray::api {

/// The REST server: the HTTP front (limits, timeouts, TLS) feeding every complete
/// request through the Router, with a debug log line per request.
class ApiServer {
 public:
  /// Binds at once (throws when the address is taken or the TLS files are unusable).
  ApiServer(const Router& router, FrontOptions options);
  ~ApiServer();

  void start();
  /// Stops accepting and waits for handlers in flight.
  void stop();
  /// The bound port (useful with port 0).
  std::uint16_t port() const;

 private:
  std::unique_ptr<HttpFront> front_;
};

}  // namespace dray::api

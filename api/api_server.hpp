#pragma once

#include <cstdint>
#include <memory>

#include <Poco/Net/HTTPServer.h>

#include "router.hpp"

namespace dray::api {

/// The HTTP front: Poco's HTTPServer feeding every request through a Router.
/// Reads at most `max_body` bytes of a body (413 beyond) and never lets an exception out.
class ApiServer {
 public:
  ApiServer(const Router& router, std::uint16_t port, std::size_t max_body, int threads);
  ~ApiServer();

  void start();
  /// Stops accepting and waits for requests in flight.
  void stop();
  /// The bound port (useful with port 0).
  std::uint16_t port() const;

 private:
  std::unique_ptr<Poco::Net::HTTPServer> server_;
};

}  // namespace dray::api

#include "api/api_server.hpp"

#include <chrono>

#include <spdlog/spdlog.h>

namespace dray::api {

ApiServer::ApiServer(const Router& router, FrontOptions options) {
  front_ = std::make_unique<HttpFront>(std::move(options), [&router](Request& request) {
    const auto started = std::chrono::steady_clock::now();
    Response response = router.dispatch(request);
    if (spdlog::should_log(spdlog::level::debug)) {
      auto micros = std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::steady_clock::now() - started);
      // The caller's token name, never the token; the path, never the Authorization header.
      spdlog::debug("{} {} {} {}us from {} as '{}'", request.method, request.path, response.status, micros.count(),
                    request.peer, request.caller.name);
    }
    return response;
  });
}

ApiServer::~ApiServer() { stop(); }

void ApiServer::start() { front_->start(); }

void ApiServer::stop() {
  if (front_) front_->stop();
}

std::uint16_t ApiServer::port() const { return front_->port(); }

}  // namespace dray::api

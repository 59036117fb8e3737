#include "api_server.hpp"

#include <chrono>

#include <Poco/Net/HTTPRequestHandler.h>
#include <Poco/Net/HTTPRequestHandlerFactory.h>
#include <Poco/Net/HTTPServerParams.h>
#include <Poco/Net/HTTPServerRequest.h>
#include <Poco/Net/HTTPServerResponse.h>
#include <Poco/Net/ServerSocket.h>
#include <Poco/URI.h>
#include <spdlog/spdlog.h>

namespace dray::api {
namespace {

constexpr std::size_t kMaxDrain = 1 << 20;

// Reads and drops what the client already sent (bounded), so closing the connection does
// not reset it before the client has read our error response.
void drain(std::istream& in) {
  char buffer[16384];
  std::size_t drained = 0;
  while (drained < kMaxDrain && (in.read(buffer, sizeof buffer) || in.gcount() > 0)) {
    drained += static_cast<std::size_t>(in.gcount());
  }
}

// Reads the body, refusing more than `limit` bytes whatever Content-Length claims.
bool readBody(Poco::Net::HTTPServerRequest& http, std::size_t limit, std::string& body) {
  std::istream& in = http.stream();
  if (http.hasContentLength() && http.getContentLength64() > static_cast<Poco::Int64>(limit)) {
    drain(in);
    return false;
  }
  char buffer[16384];
  while (in.read(buffer, sizeof buffer) || in.gcount() > 0) {
    body.append(buffer, static_cast<std::size_t>(in.gcount()));
    if (body.size() > limit) {
      drain(in);
      return false;
    }
  }
  return true;
}

class DispatchHandler final : public Poco::Net::HTTPRequestHandler {
 public:
  DispatchHandler(const Router& router, std::size_t max_body) : router_(router), max_body_(max_body) {}

  void handleRequest(Poco::Net::HTTPServerRequest& http, Poco::Net::HTTPServerResponse& out) override {
    const auto started = std::chrono::steady_clock::now();
    Response response;
    Request request;
    try {
      request.method = http.getMethod();
      Poco::URI uri(http.getURI());
      request.path = uri.getPath();
      for (auto& [key, value] : uri.getQueryParameters()) request.query.emplace(key, value);
      if (!readBody(http, max_body_, request.body)) {
        response = errorResponse(413, "request body is larger than " + std::to_string(max_body_) + " bytes");
        out.setKeepAlive(false);  // the rest of an oversized body is not read
      } else {
        response = router_.dispatch(request);
      }
    } catch (const std::exception& e) {
      response = errorResponse(400, std::string("malformed request: ") + e.what());
    }
    send(response, out);
    auto micros = std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::steady_clock::now() - started);
    spdlog::debug("{} {} {} {}us", request.method, http.getURI(), response.status, micros.count());
  }

 private:
  static void send(const Response& response, Poco::Net::HTTPServerResponse& out) {
    try {
      out.setStatus(static_cast<Poco::Net::HTTPResponse::HTTPStatus>(response.status));
      for (const auto& [name, value] : response.headers) out.set(name, value);
      if (response.status == 204) {
        out.setContentLength(0);
        out.send();
        return;
      }
      out.setContentType(response.content_type);
      out.setContentLength64(static_cast<Poco::Int64>(response.body.size()));
      out.send().write(response.body.data(), static_cast<std::streamsize>(response.body.size()));
    } catch (const std::exception& e) {
      spdlog::debug("cannot send response: {}", e.what());  // client went away
    }
  }

  const Router& router_;
  std::size_t max_body_;
};

class DispatchFactory final : public Poco::Net::HTTPRequestHandlerFactory {
 public:
  DispatchFactory(const Router& router, std::size_t max_body) : router_(router), max_body_(max_body) {}
  Poco::Net::HTTPRequestHandler* createRequestHandler(const Poco::Net::HTTPServerRequest&) override {
    return new DispatchHandler(router_, max_body_);
  }

 private:
  const Router& router_;
  std::size_t max_body_;
};

}  // namespace

ApiServer::ApiServer(const Router& router, std::uint16_t port, std::size_t max_body, int threads) {
  auto params = new Poco::Net::HTTPServerParams;  // owned by the server (AutoPtr)
  params->setMaxThreads(threads);
  params->setMaxQueued(256);
  params->setKeepAlive(true);
  params->setTimeout(Poco::Timespan(30, 0));
  Poco::Net::ServerSocket socket(Poco::Net::SocketAddress("0.0.0.0", port), 128);
  server_ = std::make_unique<Poco::Net::HTTPServer>(new DispatchFactory(router, max_body), socket, params);
}

ApiServer::~ApiServer() { stop(); }

void ApiServer::start() { server_->start(); }

void ApiServer::stop() {
  if (server_) server_->stopAll(true);
}

std::uint16_t ApiServer::port() const { return server_->port(); }

}  // namespace dray::api

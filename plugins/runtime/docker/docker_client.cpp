#include "plugins/runtime/docker/docker_client.hpp"

#include <Poco/Buffer.h>
#include <Poco/JSON/Parser.h>
#include <Poco/Net/HTTPRequest.h>
#include <Poco/Net/HTTPResponse.h>
#include <Poco/NullStream.h>
#include <Poco/StreamCopier.h>

#include "dray/sdk/errors.hpp"

namespace dray::plugins::runtime::docker {
namespace {

constexpr std::size_t kMaxIdleSessions = 16;

Poco::Net::HTTPRequest makeRequest(const std::string& method, const std::string& path) {
  Poco::Net::HTTPRequest request(method, std::string(kApiPrefix) + path, Poco::Net::HTTPMessage::HTTP_1_1);
  request.setKeepAlive(true);
  return request;
}

}  // namespace

std::string engineMessage(const std::string& body) {
  try {
    Poco::JSON::Parser parser;
    auto object = parser.parse(body).extract<Poco::JSON::Object::Ptr>();
    if (object && object->has("message")) return object->getValue<std::string>("message");
  } catch (const std::exception&) {
  }
  return body;
}

DockerClient::SessionPtr DockerClient::acquire() {
  {
    std::lock_guard lock(mutex_);
    if (!idle_.empty()) {
      SessionPtr session = std::move(idle_.back());
      idle_.pop_back();
      return session;
    }
  }
  return openSession(endpoint_);
}

void DockerClient::release(SessionPtr session, const CallInterrupt* interrupt) {
  if (interrupt && interrupt->fired()) return;  // its socket may have been shut down: never reuse it
  std::lock_guard lock(mutex_);
  if (idle_.size() < kMaxIdleSessions) idle_.push_back(std::move(session));
}

void DockerClient::fail(const std::string& method, const std::string& path, const std::exception& e) const {
  const auto* poco = dynamic_cast<const Poco::Exception*>(&e);
  throw sdk::EngineError("Docker engine at " + endpoint_.describe() + " failed on " + method + " " + path + ": " +
                         (poco ? poco->displayText() : std::string(e.what())));
}

DockerResponse DockerClient::request(const std::string& method, const std::string& path, const std::string& json_body,
                                     Poco::Timespan timeout, CallInterrupt* interrupt) {
  SessionPtr session = acquire();
  try {
    setSessionTimeout(*session, timeout);
    Poco::Net::HTTPRequest request = makeRequest(method, path);
    if (!json_body.empty()) {
      request.setContentType("application/json");
      request.setContentLength(static_cast<std::streamsize>(json_body.size()));
    } else if (method == Poco::Net::HTTPRequest::HTTP_POST) {
      request.setContentLength(0);
    }
    session->sendRequest(request) << json_body;
    DockerResponse result;
    {
      // Armed only while the socket surely stays open: the release below may close it,
      // and its number could then belong to someone else's socket.
      CallInterrupt::Armed armed(interrupt, session->socket().impl()->sockfd());
      Poco::Net::HTTPResponse response;
      std::istream& in = session->receiveResponse(response);
      result.status = response.getStatus();
      // Always read to the end, or the next response on this session is garbage.
      Poco::StreamCopier::copyToString(in, result.body);
    }
    release(std::move(session), interrupt);
    return result;
  } catch (const std::exception& e) {
    fail(method, path, e);
  }
}

DockerResponse DockerClient::streamed(const std::string& method, const std::string& path,
                                      const std::function<void(std::istream&)>& read_body, Poco::Timespan timeout,
                                      CallInterrupt* interrupt, const Headers& headers) {
  SessionPtr session = acquire();
  try {
    setSessionTimeout(*session, timeout);
    Poco::Net::HTTPRequest request = makeRequest(method, path);
    if (method == Poco::Net::HTTPRequest::HTTP_POST) request.setContentLength(0);
    for (const auto& [name, value] : headers) request.set(name, value);
    session->sendRequest(request);
    DockerResponse result;
    {
      CallInterrupt::Armed armed(interrupt, session->socket().impl()->sockfd());  // see request()
      Poco::Net::HTTPResponse response;
      std::istream& in = session->receiveResponse(response);
      result.status = response.getStatus();
      if (result.status / 100 == 2) {
        read_body(in);
        Poco::NullOutputStream rest;
        Poco::StreamCopier::copyStream(in, rest);
      } else {
        Poco::StreamCopier::copyToString(in, result.body);
      }
    }
    release(std::move(session), interrupt);
    return result;
  } catch (const sdk::PluginError&) {
    throw;  // from read_body: already says what went wrong; the session is dropped
  } catch (const std::exception& e) {
    fail(method, path, e);
  }
}

AttachedStream DockerClient::attach(const std::string& container_id, Poco::Timespan timeout, CallInterrupt* interrupt) {
  const std::string path = "/containers/" + container_id + "/attach?stream=1&stdin=1&stdout=1&stderr=1";
  try {
    SessionPtr session = openSession(endpoint_);  // consumed by the upgrade, never pooled
    setSessionTimeout(*session, timeout);
    Poco::Net::HTTPRequest request = makeRequest(Poco::Net::HTTPRequest::HTTP_POST, path);
    request.set("Connection", "Upgrade");
    request.set("Upgrade", "tcp");
    session->sendRequest(request);
    CallInterrupt::Armed armed(interrupt, session->socket().impl()->sockfd());
    Poco::Net::HTTPResponse response;
    std::istream& in = session->receiveResponse(response);
    if (response.getStatus() != Poco::Net::HTTPResponse::HTTP_SWITCHING_PROTOCOLS &&
        response.getStatus() != Poco::Net::HTTPResponse::HTTP_OK) {
      std::string body;
      Poco::StreamCopier::copyToString(in, body);
      throw sdk::EngineError("cannot attach to container " + container_id + ": " + engineMessage(body));
    }
    Poco::Buffer<char> leftover(0);
    session->drainBuffer(leftover);
    AttachedStream stream{session->detachSocket(), std::string(leftover.begin(), leftover.size())};
    // Step timeouts are enforced by killing the container, not by socket timeouts.
    stream.socket.setReceiveTimeout(Poco::Timespan(0));
    // A prepared step's attach may sit idle for as long as the step before it runs: over
    // TCP, keepalive stops idle-connection reapers on the way from dropping it.
    if (!endpoint_.isUnix()) stream.socket.setKeepAlive(true);
    return stream;
  } catch (const sdk::PluginError&) {
    throw;
  } catch (const std::exception& e) {
    fail("POST", path, e);
  }
}

}  // namespace dray::plugins::runtime::docker

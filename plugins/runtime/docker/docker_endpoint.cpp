#include "plugins/runtime/docker/docker_endpoint.hpp"

#include <Poco/Buffer.h>
#include <Poco/Net/StreamSocket.h>
#include <Poco/NumberParser.h>
#include <Poco/URI.h>

#include "dray/sdk/errors.hpp"

namespace dray::plugins::runtime::docker {
namespace {

const Poco::Timespan kConnectTimeout(5, 0);
const Poco::Timespan kSendTimeout(60, 0);

// HTTPClientSession cannot address a UNIX socket itself, and its stock connect() calls
// setNoDelay, which AF_UNIX rejects. Keeping the host "localhost" lets Poco send a Host
// header and reconnect after keep-alive expiry through this override.
class UnixSocketSession final : public Poco::Net::HTTPClientSession {
 public:
  explicit UnixSocketSession(std::string path) : HTTPClientSession("localhost", 80), path_(std::move(path)) {}

 protected:
  void connect(const Poco::Net::SocketAddress&) override {
    Poco::Net::StreamSocket socket;
    socket.connect(Poco::Net::SocketAddress(Poco::Net::SocketAddress::UNIX_LOCAL, path_), kConnectTimeout);
    socket.setReceiveTimeout(getTimeout());
    socket.setSendTimeout(kSendTimeout);
    attachSocket(socket);
    Poco::Buffer<char> stale(0);
    drainBuffer(stale);
  }

 private:
  std::string path_;
};

}  // namespace

std::string DockerEndpoint::describe() const {
  return isUnix() ? "unix://" + unix_path : "tcp://" + host + ":" + std::to_string(port);
}

DockerEndpoint parseDockerHost(const std::string& value) {
  DockerEndpoint endpoint;
  if (!value.empty() && value.front() == '/') {
    endpoint.unix_path = value;
    return endpoint;
  }
  try {
    Poco::URI uri(value);
    if (uri.getScheme() == "unix" && !uri.getPath().empty()) {
      endpoint.unix_path = uri.getPath();
      return endpoint;
    }
    if ((uri.getScheme() == "tcp" || uri.getScheme() == "http") && !uri.getHost().empty()) {
      endpoint.host = uri.getHost();
      endpoint.port = uri.getPort() ? uri.getPort() : 2375;
      return endpoint;
    }
  } catch (const Poco::Exception&) {
  }
  throw sdk::ConfigError("DOCKER_HOST must look like unix:///var/run/docker.sock or tcp://host:port, got '" + value +
                         "'");
}

std::unique_ptr<Poco::Net::HTTPClientSession> openSession(const DockerEndpoint& endpoint) {
  std::unique_ptr<Poco::Net::HTTPClientSession> session;
  if (endpoint.isUnix()) {
    session = std::make_unique<UnixSocketSession>(endpoint.unix_path);
  } else {
    session = std::make_unique<Poco::Net::HTTPClientSession>(endpoint.host, endpoint.port);
  }
  session->setKeepAlive(true);
  return session;
}

void setSessionTimeout(Poco::Net::HTTPClientSession& session, Poco::Timespan receive) {
  session.setTimeout(kConnectTimeout, kSendTimeout, receive);
  if (session.connected()) session.socket().setReceiveTimeout(receive);
}

}  // namespace dray::plugins::runtime::docker

#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include <Poco/Net/HTTPClientSession.h>
#include <Poco/Timespan.h>

namespace dray::plugins::runtime::docker {

/// Where the engine listens: a UNIX socket path or a TCP host and port.
struct DockerEndpoint {
  std::string unix_path;  ///< set for unix://
  std::string host;       ///< set for tcp://
  std::uint16_t port = 0;

  bool isUnix() const { return !unix_path.empty(); }
  std::string describe() const;
};

/// Parses DOCKER_HOST: "unix:///var/run/docker.sock", "tcp://host:port", or a bare
/// absolute socket path. Throws sdk::ConfigError naming the value.
DockerEndpoint parseDockerHost(const std::string& value);

/// A new HTTP session to the engine (keep-alive on, connects lazily).
std::unique_ptr<Poco::Net::HTTPClientSession> openSession(const DockerEndpoint& endpoint);

/// Applies timeouts to a session, also to its socket when already connected.
void setSessionTimeout(Poco::Net::HTTPClientSession& session, Poco::Timespan receive);

}  // namespace dray::plugins::runtime::docker

#pragma once

#include <string>
#include <vector>

#include <Poco/Process.h>

#include "tests/support/test_support.hpp"

namespace dray::test {

/// A second Docker engine on this machine, for tests with several nodes: its own dockerd
/// (data root, exec root, pidfile and socket in a temporary directory; no bridge, no
/// iptables), with the given images copied over from the first engine (docker save | load).
/// Stopped and its directory removed with the object.
class SecondEngine {
 public:
  explicit SecondEngine(const std::vector<std::string>& images);
  ~SecondEngine();
  SecondEngine(const SecondEngine&) = delete;
  SecondEngine& operator=(const SecondEngine&) = delete;

  /// unix:///…/docker.sock, for DOCKER_HOST.
  std::string host() const { return "unix://" + socket_; }
  /// `docker -H <this engine> <arguments>`'s output.
  std::string docker(const std::string& arguments) const;

 private:
  TempDir dir_;
  std::string socket_;
  std::unique_ptr<Poco::ProcessHandle> daemon_;
};

/// Records which jobs' containers an engine (`host`, "" for the default one) creates from
/// now on, from its event stream (the engine keeps only its last 256 events for later).
class ContainerCreations {
 public:
  explicit ContainerCreations(const std::string& host);
  ~ContainerCreations();
  /// The job ids (label dray.job) of the containers created so far, one per container.
  std::vector<std::string> jobs() const;

 private:
  TempDir dir_;
  std::unique_ptr<Poco::ProcessHandle> events_;
};

}  // namespace dray::test

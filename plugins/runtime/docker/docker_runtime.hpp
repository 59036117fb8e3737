#pragma once

#include <mutex>
#include <set>
#include <string>

#include "docker_client.hpp"
#include "dray/sdk/log.hpp"
#include "dray/sdk/runtime.hpp"

namespace dray::plugins::runtime::docker {

/// Runs steps as containers on a Docker engine (Engine API 1.41):
/// prepare = create -> attach (before start, so no output is lost); run = start -> stream
/// -> wait -> exit hook -> remove. The remove is armed right after create and runs on
/// every path, also when a prepared container is dropped unstarted.
/// Thread-safe: all state is in the pooled client and the known-images set.
class DockerRuntime final : public sdk::Runtime {
 public:
  DockerRuntime(DockerEndpoint endpoint, sdk::Logger& logger) : client_(std::move(endpoint)), logger_(logger) {}

  void ensureImage(const std::string& image, bool refresh, sdk::Logger& job_log) override;
  sdk::PreparedContainerPtr prepare(const sdk::ContainerSpec& spec) override;
  std::vector<std::string> listLabelled(const std::string& key) override;
  void remove(const std::string& container_id) override;
  sdk::HealthReport checkHealth() override;

 private:
  friend class DockerPreparedContainer;
  bool imagePresent(const std::string& image);
  void pull(const std::string& image, sdk::Logger& job_log);
  std::string create(const sdk::ContainerSpec& spec);
  void start(const std::string& id);
  void kill(const std::string& id);
  int wait(const std::string& id);

  DockerClient client_;
  sdk::Logger& logger_;
  // Images seen present: their inspect call is skipped (a step's refresh still pulls).
  std::mutex known_mutex_;
  std::set<std::string> known_images_;
};

/// The JSON body of POST /containers/create for a spec: stdin attached and closed after
/// its end (StdinOnce), no TTY so stdout and stderr stay apart, and a HostConfig that gives
/// the step no host resources (no binds, devices, privileges, added capabilities or host
/// namespaces) whatever the spec says. Holds the env: never log it.
std::string createBody(const sdk::ContainerSpec& spec);

}  // namespace dray::plugins::runtime::docker

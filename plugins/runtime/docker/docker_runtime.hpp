#pragma once

#include <chrono>
#include <memory>
#include <mutex>
#include <set>
#include <string>

#include "dray/sdk/log.hpp"
#include "dray/sdk/runtime.hpp"
#include "plugins/runtime/docker/container_reaper.hpp"
#include "plugins/runtime/docker/docker_client.hpp"
#include "plugins/runtime/docker/registry_auth.hpp"

namespace dray::plugins::runtime::docker {

/// How long the engine gets. Every call is bounded; see docs/faults.md.
struct DockerTimeouts {
  Poco::Timespan call = Poco::Timespan(30, 0);   ///< DRAY_ENGINE_TIMEOUT: any one engine call
  Poco::Timespan pull = Poco::Timespan(600, 0);  ///< DRAY_PULL_TIMEOUT: a whole image pull
  std::chrono::milliseconds kill_grace{10000};   ///< DRAY_KILL_GRACE: a kill must take effect within this
};

/// Runs steps as containers on a Docker engine (Engine API 1.41):
/// prepare = create -> attach (before start, so no output is lost); run = start -> stream
/// -> wait -> exit hook -> remove. The remove is armed right after create and runs on
/// every path, also when a prepared container is dropped unstarted. No engine call can
/// hold a job past its limits: every call has a timeout, stop interrupts pulls and
/// creates at once, and a kill that does not take effect within the kill grace ends the
/// run; what the engine would not remove goes to the background reaper.
/// Thread-safe: all state is in the pooled client, the known-images set and the reaper.
class DockerRuntime final : public sdk::Runtime {
 public:
  /// `registry_auth`: the credentials sent with pulls (DOCKER_CONFIG_FILE).
  DockerRuntime(DockerEndpoint endpoint, sdk::Logger& logger, DockerTimeouts timeouts = {},
                RegistryAuth registry_auth = {});

  void ensureImage(const std::string& image, bool refresh, sdk::Logger& job_log, std::stop_token stop = {}) override;
  sdk::PreparedContainerPtr prepare(const sdk::ContainerSpec& spec, std::stop_token stop = {}) override;
  std::vector<std::string> listLabelled(const std::string& key) override;
  bool remove(const std::string& container_id) override;
  std::size_t unremovedContainers() const override { return reaper_->pending(); }
  sdk::HealthReport checkHealth() override;

 private:
  friend class DockerPreparedContainer;
  bool imagePresent(const std::string& image, CallInterrupt& interrupt);
  void pull(const std::string& image, sdk::Logger& job_log, CallInterrupt& interrupt);
  std::string create(const sdk::ContainerSpec& spec, CallInterrupt& interrupt);
  void start(const std::string& id, CallInterrupt& interrupt);
  void kill(const std::string& id, CallInterrupt& interrupt);
  int wait(const std::string& id, CallInterrupt& interrupt);
  // The engine's State.OOMKilled of an exited container (false when it cannot tell).
  bool oomKilled(const std::string& id, CallInterrupt& interrupt);

  DockerClient client_;
  DockerTimeouts timeouts_;
  const RegistryAuth registry_auth_;
  sdk::Logger& logger_;
  std::unique_ptr<ContainerReaper> reaper_;
  // Images seen present: their inspect call is skipped (a step's refresh still pulls).
  std::mutex known_mutex_;
  std::set<std::string> known_images_;
};

/// The JSON body of POST /containers/create for a spec: stdin attached and closed after
/// its end (StdinOnce), no TTY so stdout and stderr stay apart, and a HostConfig that gives
/// the step no host resources (no binds, devices, privileges, added capabilities or host
/// namespaces) whatever the spec says, and the spec's resources (network mode, CPU shares and
/// quota, memory without swap, process limit; each only when set). Holds the env: never log it.
std::string createBody(const sdk::ContainerSpec& spec);

}  // namespace dray::plugins::runtime::docker

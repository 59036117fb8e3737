#pragma once

#include <optional>
#include <string>

#include "dray/sdk/runtime.hpp"
#include "plugins/runtime/docker/call_interrupt.hpp"
#include "plugins/runtime/docker/docker_client.hpp"

namespace dray::plugins::runtime::docker {

class DockerRuntime;

/// Owns a created, attached container; removes it when destroyed, run or not. A run that
/// is stopped (cancel, timeout, shutdown) kills the container; if the kill does not take
/// effect within the kill grace, the attach stream and the engine call in flight are cut,
/// the run ends with sdk::EngineUnresponsive, and the container goes to the reaper.
class DockerPreparedContainer final : public sdk::PreparedContainer {
 public:
  DockerPreparedContainer(DockerRuntime& runtime, std::string id) : runtime_(runtime), id_(std::move(id)) {}
  ~DockerPreparedContainer() override;
  DockerPreparedContainer(const DockerPreparedContainer&) = delete;
  DockerPreparedContainer& operator=(const DockerPreparedContainer&) = delete;

  /// Attached separately from the constructor so a failed attach still removes the container.
  void attach(CallInterrupt& interrupt);

  sdk::ContainerExit run(sdk::RunIo& io, sdk::ExitHook& hook, std::stop_token stop) override;

 private:
  std::string shortId() const { return id_.substr(0, 12); }
  int startStreamAndWait(sdk::RunIo& io);

  DockerRuntime& runtime_;
  std::string id_;
  std::optional<AttachedStream> stream_;
  CallInterrupt calls_;  // start, the attach stream and wait of this run
  bool ran_ = false;
  bool abandoned_ = false;  // the engine ignored a kill: leave removal to the reaper
};

}  // namespace dray::plugins::runtime::docker

#pragma once

#include <optional>
#include <string>

#include "dray/sdk/runtime.hpp"
#include "plugins/runtime/docker/docker_client.hpp"
#include "plugins/runtime/docker/tar_extractor.hpp"

namespace dray::plugins::runtime::docker {

/// Copies files out of an exited container through GET /containers/{id}/archive,
/// so no host directory is shared with the step. copyFileOut returns false only for a
/// path that does not exist; a directory, device, FIFO or a symlink to one of those (or to
/// nothing) throws sdk::PluginError naming the path and what it is. A symlink to a regular
/// file is followed, up to 8 links.
class DockerContainerFiles final : public sdk::ContainerFiles {
 public:
  /// `timeout` bounds each wait for the engine during a copy (not the whole copy): the
  /// old default of the client's streamed calls.
  DockerContainerFiles(DockerClient& client, std::string container_id, Poco::Timespan timeout = Poco::Timespan(600, 0))
      : client_(client), container_id_(std::move(container_id)), timeout_(timeout) {}

  bool copyFileOut(const std::string& path, sdk::ByteSink& sink) override;

 private:
  // One archive request: nullopt on 404; a regular file's bytes go to `sink`.
  std::optional<TarTopEntry> fetchTopEntry(const std::string& path, sdk::ByteSink& sink);

  DockerClient& client_;
  std::string container_id_;
  Poco::Timespan timeout_;
};

}  // namespace dray::plugins::runtime::docker

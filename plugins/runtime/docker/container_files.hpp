#pragma once

#include <string>

#include "docker_client.hpp"
#include "dray/sdk/runtime.hpp"

namespace dray::plugins::runtime::docker {

/// Copies files out of an exited container through GET /containers/{id}/archive,
/// so no host directory is shared with the step.
class DockerContainerFiles final : public sdk::ContainerFiles {
 public:
  DockerContainerFiles(DockerClient& client, std::string container_id)
      : client_(client), container_id_(std::move(container_id)) {}

  bool copyFileOut(const std::string& path, sdk::ByteSink& sink) override;

 private:
  DockerClient& client_;
  std::string container_id_;
};

}  // namespace dray::plugins::runtime::docker

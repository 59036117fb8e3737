#include "docker_runtime.hpp"
#include "dray/sdk/export.hpp"

namespace {

const dray::sdk::OptionSpec kOptions[] = {
    {"host", "unix:///var/run/docker.sock", "engine address: unix:///path or tcp://host:port", "DOCKER_HOST"},
};

dray::sdk::Plugin* create(const dray::sdk::PluginContext& context) {
  using namespace dray::plugins::runtime::docker;
  return new DockerRuntime(parseDockerHost(context.options.at("host")), context.logger);
}

}  // namespace

DRAY_PLUGIN(runtime, "docker", "1.0.0", "runs steps as containers on a Docker engine (API 1.41)",
            dray::sdk::options(kOptions), create)

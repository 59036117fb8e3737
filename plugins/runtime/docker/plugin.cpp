#include <Poco/NumberParser.h>

#include "dray/sdk/errors.hpp"
#include "dray/sdk/export.hpp"
#include "plugins/runtime/docker/docker_runtime.hpp"

namespace {

using namespace dray::plugins::runtime::docker;

const dray::sdk::OptionSpec kOptions[] = {
    {"host", "unix:///var/run/docker.sock", "engine address: unix:///path or tcp://host:port", "DOCKER_HOST"},
    {"engine-timeout", "30", "seconds any one engine call may take (pulls and running steps excepted)",
     "DRAY_ENGINE_TIMEOUT"},
    {"pull-timeout", "600", "seconds an image pull may take", "DRAY_PULL_TIMEOUT"},
    {"kill-grace", "10", "seconds a kill gets to take effect before dray lets go of the container", "DRAY_KILL_GRACE"},
    {"docker-config-file", "", "a Docker CLI config.json whose \"auths\" credentials are sent with pulls",
     "DOCKER_CONFIG_FILE"},
};

// Seconds from 0.1 to a day, as a Timespan.
Poco::Timespan seconds(const dray::sdk::PluginContext& context, const std::string& name) {
  const std::string& text = context.options.at(name);
  double value = 0;
  if (!Poco::NumberParser::tryParseFloat(text, value) || value < 0.1 || value > 86400) {
    throw dray::sdk::ConfigError("docker option " + name + " must be a number of seconds from 0.1 to 86400, got '" +
                                 text + "'");
  }
  return Poco::Timespan(static_cast<Poco::Timespan::TimeDiff>(value * 1e6));
}

dray::sdk::Plugin* create(const dray::sdk::PluginContext& context) {
  DockerTimeouts timeouts;
  timeouts.call = seconds(context, "engine-timeout");
  timeouts.pull = seconds(context, "pull-timeout");
  timeouts.kill_grace = std::chrono::milliseconds(seconds(context, "kill-grace").totalMilliseconds());
  RegistryAuth registry_auth;
  if (const std::string& path = context.options.at("docker-config-file"); !path.empty()) {
    registry_auth = RegistryAuth::load(path);  // read once: a broken file stops start-up
    context.logger.info("registry credentials for " + std::to_string(registry_auth.size()) + " registries read from " +
                        path);
    if (registry_auth.usesHelpers()) {
      context.logger.warn("the Docker config file " + path +
                          " names credential helpers (credsStore/credHelpers); dray does not use them, only "
                          "\"auths\" entries");
    }
  }
  return new DockerRuntime(parseDockerHost(context.options.at("host")), context.logger, timeouts,
                           std::move(registry_auth));
}

}  // namespace

DRAY_PLUGIN(runtime, "docker", "1.0.0", "runs steps as containers on a Docker engine (API 1.41)",
            dray::sdk::options(kOptions), create)

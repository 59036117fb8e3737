// The dray executable: configuration -> plugins -> runner -> REST API, until SIGTERM/SIGINT.
#include <csignal>
#include <iostream>

#include <boost/dll/runtime_symbol_info.hpp>
#include <spdlog/spdlog.h>

#include "api_server.hpp"
#include "channel_set.hpp"
#include "config.hpp"
#include "health_routes.hpp"
#include "metrics_routes.hpp"
#include "recovery.hpp"
#include "dray/sdk/output_channel.hpp"
#include "dray/sdk/runtime.hpp"
#include "dray/sdk/storage.hpp"
#include "job_routes.hpp"
#include "job_runner.hpp"
#include "job_service.hpp"
#include "plugin_registry.hpp"
#include "plugin_routes.hpp"
#include "spdlog_logger.hpp"

namespace {

using namespace dray;

std::string defaultPluginDir() {
  // bin/dray next to lib/dray/plugins, in the build tree and in the install tree alike.
  return (boost::dll::program_location().parent_path().parent_path() / "lib" / "dray" / "plugins").string();
}

void logPlugins(const core::PluginRegistry& registry) {
  for (const auto& plugin : registry.plugins()) {
    spdlog::info("plugin {}/{} {} loaded from {}", core::kindName(plugin.info.kind), plugin.info.name,
                 plugin.info.version, plugin.info.file);
  }
}

core::ChannelSet createChannels(const core::PluginRegistry& registry) {
  core::ChannelSet channels;
  for (const auto& name : registry.names(sdk::PluginKind::kOutput)) {
    channels.add(name, registry.create<sdk::OutputChannel>(sdk::PluginKind::kOutput, name));
  }
  return channels;
}

int waitForSignal() {
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  int received = 0;
  sigwait(&signals, &received);
  return received;
}

int run(int argc, char** argv) {
  core::Config config = core::loadConfig(argc, argv, defaultPluginDir());
  core::configureLogging(config.log_level, config.log_format);

  core::SpdlogLogger plugin_logger(spdlog::default_logger());
  core::PluginRegistry registry(core::PluginLoader::loadDirectories(config.plugin_dirs), plugin_logger);
  logPlugins(registry);

  auto storage = registry.create<sdk::Storage>(sdk::PluginKind::kStorage, config.storage);
  auto runtime = registry.create<sdk::Runtime>(sdk::PluginKind::kRuntime, config.runtime);
  core::ChannelSet channels = createChannels(registry);
  spdlog::info("storage '{}', runtime '{}', {} workers, queue {}, instance '{}'", config.storage, config.runtime,
               config.workers, config.max_queue, config.instance);

  core::recoverAfterRestart(*storage, *runtime, config.instance);
  core::RunnerOptions runner_options{config.workers, config.max_queue, config.spool_memory, config.log_limit,
                                     config.instance};
  core::JobRunner runner(*storage, *runtime, runner_options);
  core::JobService service(*storage, runner, channels, {config.instance, config.step_timeout});
  api::Router router;
  api::addJobRoutes(router, service, runner);
  api::addHealthRoutes(router, *storage, *runtime, runner);
  api::addMetricsRoutes(router, runner);
  std::vector<core::PluginInfo> infos;
  for (const auto& plugin : registry.plugins()) infos.push_back(plugin.info);
  api::addPluginRoutes(router, std::move(infos));
  api::ApiServer server(router, config.port, config.max_body, static_cast<int>(config.workers) + 16);
  server.start();
  spdlog::info("dray listening on port {}", server.port());

  int signal = waitForSignal();
  spdlog::info("signal {} received: stopping", signal);
  server.stop();
  // Running jobs get the grace period, then are canceled: their containers are removed.
  runner.shutdown(std::chrono::milliseconds(static_cast<long>(config.shutdown_grace * 1000)));
  spdlog::info("dray stopped");
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  std::signal(SIGPIPE, SIG_IGN);
  // Block the stop signals in every thread; main collects them with sigwait.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);

  for (int i = 1; i < argc; ++i) {
    if (std::string(argv[i]) == "-h" || std::string(argv[i]) == "--help") {
      std::cout << dray::core::usage();
      return 0;
    }
  }
  try {
    return run(argc, argv);
  } catch (const std::exception& e) {
    spdlog::critical("dray cannot start: {}", e.what());
    return 1;
  }
}

// The dray executable: configuration -> plugins -> runner -> REST API, until SIGTERM/SIGINT.
#include <malloc.h>
#include <sys/resource.h>

#include <atomic>
#include <csignal>
#include <iostream>
#include <optional>
#include <set>
#include <thread>

#include <spdlog/spdlog.h>
#include <boost/dll/runtime_symbol_info.hpp>

#include "api/api_server.hpp"
#include "api/api_settings.hpp"
#include "api/event_routes.hpp"
#include "api/front/tls_session.hpp"
#include "api/health_routes.hpp"
#include "api/job_routes.hpp"
#include "api/metrics_routes.hpp"
#include "api/node_routes.hpp"
#include "api/plugin_routes.hpp"
#include "api/ui_routes.hpp"
#include "core/channel_set.hpp"
#include "core/config.hpp"
#include "core/job_json.hpp"
#include "core/job_runner.hpp"
#include "core/job_service.hpp"
#include "core/job_watch.hpp"
#include "core/node_lease.hpp"
#include "core/plugin_registry.hpp"
#include "core/queue_worker.hpp"
#include "core/recovery.hpp"
#include "core/spdlog_logger.hpp"
#include "core/webhook_sender.hpp"
#include "dray/sdk/output_channel.hpp"
#include "dray/sdk/runtime.hpp"
#include "dray/sdk/storage.hpp"
#include "dray/sdk/version.hpp"

namespace {

using namespace dray;

std::string defaultPluginDir() {
  // bin/dray next to lib/dray/plugins, in the build tree and in the install tree alike.
  return (boost::dll::program_location().parent_path().parent_path() / "lib" / "dray" / "plugins").string();
}

std::string defaultUiDir() {
  // bin/dray next to share/dray/ui, in the build tree and in the install tree alike.
  return (boost::dll::program_location().parent_path().parent_path() / "share" / "dray" / "ui").string();
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
  spdlog::info("dray {} (plugin ABI {})", sdk::kSdkVersion, sdk::kAbiVersion);
  // Read (and refuse) the API's settings before anything starts: a bad tokens file must
  // stop dray, not leave it running open.
  api::ApiSettings api_settings =
      api::loadApiSettings(config.port, config.max_body, static_cast<unsigned>(config.workers) + 16, defaultUiDir());
  // Read now: a UI that cannot be served stops dray before anything starts.
  auto ui_assets = std::make_shared<const api::UiAssets>(api::UiAssets::load(api_settings.ui_dir));
  if (api_settings.front.tls.enabled()) api::makeServerTlsContext(api_settings.front.tls);  // unusable files: stop now

  core::SpdlogLogger plugin_logger(spdlog::default_logger());
  core::PluginRegistry registry(core::PluginLoader::loadDirectories(config.plugin_dirs), plugin_logger);
  logPlugins(registry);

  auto storage = registry.create<sdk::Storage>(sdk::PluginKind::kStorage, config.storage);
  auto runtime = registry.create<sdk::Runtime>(sdk::PluginKind::kRuntime, config.runtime);
  core::ChannelSet channels = createChannels(registry);
  spdlog::info("storage '{}', runtime '{}', {} workers, queue {}, instance '{}'", config.storage, config.runtime,
               config.workers, config.max_queue, config.instance);

  // Jobs are accepted at once but held until recovery has dealt with what a previous
  // dray of this instance left behind (which may take long on a slow engine).
  core::RunnerOptions runner_options{config.workers,   config.max_queue, config.spool_memory,
                                     config.log_limit, config.instance,  true};
  runner_options.job_log_limit = config.job_log_limit;
  runner_options.output_limit = config.output_limit;
  runner_options.stream_buffer = config.stream_buffer;
  runner_options.stream_drain = config.stream_drain;
  core::WebhookOptions webhook_options;
  webhook_options.instance = config.instance;
  webhook_options.server_url = config.webhook_url;
  webhook_options.server_secret = config.webhook_secret;
  webhook_options.retries = config.webhook_retries;
  webhook_options.timeout = std::chrono::milliseconds(static_cast<long>(config.webhook_timeout * 1000));
  core::WebhookPolicy webhook_policy(config.webhook_allowed_hosts);
  // Declared before the runner, which tells it of every job's end: it outlives the runner.
  core::WebhookSender webhooks(*storage, webhook_policy, webhook_options,
                               [&storage](const std::string& id) -> std::optional<std::string> {
                                 auto record = storage->getJob(id);
                                 if (!record) return std::nullopt;
                                 return core::toJsonText(core::jobObject({*record, record->status}));
                               });
  webhooks.start();
  // Set once the shared queue's worker exists (several nodes on one storage), before any job runs.
  std::atomic<core::QueueWorker*> queue_worker{nullptr};
  runner_options.on_finished = [&webhooks, &queue_worker](const core::ResolvedJob& job, core::Status) {
    webhooks.jobEnded(job.id, job.callback);
    if (core::QueueWorker* worker = queue_worker.load()) worker->finished(job.id);
  };
  core::JobRunner runner(*storage, runtime, runner_options);
  // This node's name, as GET /nodes shows it (refreshed at every lease renewal).
  const std::string engine = core::envOr("DOCKER_HOST", "unix:///var/run/docker.sock");
  auto node_info = [&config, &runner, &engine] {
    Poco::JSON::Object info(Poco::JSON_PRESERVE_KEY_ORDER);
    info.set("name", config.instance);
    info.set("engine", engine);
    info.set("workers", config.workers);
    info.set("running", static_cast<Poco::UInt64>(runner.running()));
    info.set("queued", static_cast<Poco::UInt64>(runner.queued()));
    info.set("heartbeat", core::nowRfc3339());
    info.set("version", std::string(sdk::kSdkVersion));
    return core::toJsonText(info);
  };
  // Before recovery reaps this instance's containers: a second process with a live node's
  // name must not start (it would reap that node's containers).
  core::SpdlogLogger lease_logger(spdlog::default_logger());
  std::optional<core::NodeLease> lease;
  if (sdk::NodeRegistry* nodes = storage->nodes()) {
    lease.emplace(*nodes,
                  core::NodeLeaseOptions{
                      config.instance, std::chrono::milliseconds(static_cast<long>(config.node_ttl * 1000)), node_info,
                      [&runner, &queue_worker](const std::string& why) {
                        if (core::QueueWorker* worker = queue_worker.load()) worker->fenced();
                        runner.stopRunning(why);
                      },
                      [&queue_worker] {
                        if (core::QueueWorker* worker = queue_worker.load()) worker->regained();
                      }},
                  lease_logger);
    spdlog::info("node '{}': lease taken ({} s, renewed every {} s)", config.instance, config.node_ttl,
                 config.node_ttl / 3);
  }
  core::ImagePolicy image_policy(config.allowed_images);
  const std::string allowed = image_policy.describe();
  spdlog::info("images allowed: {}", allowed.empty() ? "all (no DRAY_ALLOWED_IMAGES)" : allowed);
  core::ServiceOptions service_options;
  service_options.instance = config.instance;
  service_options.default_step_timeout = config.step_timeout;
  service_options.image_policy = image_policy;
  service_options.webhook_policy = webhook_policy;
  service_options.step_limits = {
      static_cast<std::int64_t>(config.step_memory), static_cast<std::int64_t>(config.step_cpus * 1e9 + 0.5),
      static_cast<std::int64_t>(config.step_pids_limit), config.step_network_mode, config.allow_host_network};
  service_options.max_shared_queue = config.max_queue;
  core::JobService service(*storage, runner, channels, service_options);
  // Several nodes on one storage (Redis): jobs go through the shared queue (docs/scaling.md).
  core::SpdlogLogger queue_logger(spdlog::default_logger());
  std::unique_ptr<core::QueueWorker> worker;
  if (storage->queue() && storage->nodes()) {
    core::QueueWorkerOptions queue_options;
    queue_options.node = config.instance;
    queue_options.ttl = std::chrono::milliseconds(static_cast<long>(config.node_ttl * 1000));
    queue_options.on_ended = [&webhooks](const std::string& id, const std::optional<core::WebhookTarget>& callback) {
      webhooks.jobEnded(id, callback);
    };
    worker = std::make_unique<core::QueueWorker>(
        *storage, *storage->queue(), *storage->nodes(), runner,
        [&service](const sdk::JobRecord& record) { return service.resolveStored(record); }, queue_options,
        queue_logger);
    queue_worker = worker.get();
    service.useQueue(worker.get());
    spdlog::info("shared queue: jobs without secrets go to the nodes' queue; this node takes up to {} at a time",
                 config.workers);
  }
  const std::string started_at = core::nowRfc3339();
  std::jthread recovery([&] {  // joined on every path, also when start-up fails below
    // Jobs this node took from the shared queue are settled by the queue worker (it runs
    // those that had not started), not ended here.
    std::set<std::string> taken;
    try {
      if (worker) taken = worker->pendingJobIds();
    } catch (const std::exception& e) {
      spdlog::warn("recovery: cannot read this node's entries in the shared queue: {}", e.what());
    }
    core::recoverAfterRestart(
        *storage, *runtime, config.instance,
        [&runner, &taken](const std::string& id) { return runner.state(id).has_value() || taken.count(id) > 0; },
        started_at);
    runner.release();
    if (worker) worker->start();
  });

  api::Router router;
  if (api_settings.tokens.enabled()) router.setAuthentication(&api_settings.tokens, api_settings.metrics_public);
  core::JobWatchOptions watch_options;
  watch_options.heartbeat = std::chrono::milliseconds(static_cast<long>(config.events_heartbeat * 1000));
  core::JobWatch watch(*storage, watch_options);
  spdlog::info("live events: {}", watch.pushed() ? "pushed by the storage" : "the storage cannot tell changes: polled");
  api::addJobRoutes(router, service, runner, watch);
  api::addEventRoutes(router, service, watch);
  api::addHealthRoutes(router, *storage, *runtime, runner);
  std::function<std::size_t()> shared_depth;
  if (worker) shared_depth = [&worker] { return worker->depth(); };
  api::addMetricsRoutes(router, runner, *runtime, webhooks, watch, shared_depth);
  api::addNodeRoutes(router, storage->nodes(), node_info);
  std::vector<core::PluginInfo> infos;
  for (const auto& plugin : registry.plugins()) infos.push_back(plugin.info);
  api::addPluginRoutes(router, std::move(infos));
  api::addUiRoutes(router, ui_assets);
  api::ApiServer server(router, api_settings.front);
  server.start();
  const auto& front = api_settings.front;
  if (ui_assets->empty()) {
    spdlog::info("web UI: none ({} has no files; DRAY_UI_DIR)", api_settings.ui_dir);
  } else {
    spdlog::info("web UI: {} files from {}, at /ui/", ui_assets->size(), api_settings.ui_dir);
  }
  spdlog::info(
      "dray listening on port {} of {} ({}), {}", server.port(), front.listen_address,
      front.tls.enabled() ? (front.tls.client_ca_file.empty() ? "https" : "https, client certificates required")
                          : "http",
      api_settings.tokens.enabled() ? std::to_string(api_settings.tokens.size()) + " API tokens" : "no authentication");
  if (!api_settings.tokens.enabled() && !api::isLoopbackAddress(front.listen_address)) {
    spdlog::warn(
        "no DRAY_TOKEN or DRAY_TOKENS_FILE: anyone who reaches {}:{} can run any image on this host "
        "(see docs/security.md)",
        front.listen_address, server.port());
  }

  int signal = waitForSignal();
  spdlog::info("signal {} received: stopping", signal);
  // The API and the runner stop side by side: a handler waiting for a job (DELETE) ends
  // as soon as the runner lets the job go. Running jobs get the grace period, then are
  // stopped; each stopped step ends within the runtime's kill grace.
  std::thread api_stop([&server] { server.stop(); });
  if (worker) {
    worker->stop();          // taken and not started: back to the queue, for another node
    queue_worker = nullptr;  // the lease's threads outlive it
  }
  runner.shutdown(std::chrono::milliseconds(static_cast<long>(config.shutdown_grace * 1000)));
  api_stop.join();
  recovery.join();
  spdlog::info("dray stopped");
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  // Large transient buffers (log pages, request bodies, spooled chunks) are mmapped and so
  // given back to the system when freed. glibc would otherwise raise this threshold after
  // the first such free and keep the buffers in its per-thread arenas (up to 8 per core):
  // with many handler threads that looks like, and costs as much as, a leak.
  mallopt(M_MMAP_THRESHOLD, 256 * 1024);
  // Smaller blocks (64 KiB log lines) stay in malloc's arenas after free. One arena per
  // thread (handlers, workers, stream pumps) keeps one copy of that garbage each: measured
  // on a 1 GiB job whose 8 MiB log was read page by page, peak RSS 66 MiB with glibc's
  // default arenas, 34 MiB with two. The log benchmark, the most allocation-heavy path,
  // ran at the same rate with two arenas (bench/README.md, "malloc arenas").
  mallopt(M_ARENA_MAX, 2);
  // Every client connection is a descriptor: allow as many as the hard limit does.
  rlimit files{};
  if (getrlimit(RLIMIT_NOFILE, &files) == 0 && files.rlim_cur < files.rlim_max) {
    files.rlim_cur = files.rlim_max;
    setrlimit(RLIMIT_NOFILE, &files);
  }
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
    if (std::string(argv[i]) == "--version") {
      std::cout << "dray " << dray::sdk::kSdkVersion << " (plugin ABI " << dray::sdk::kAbiVersion << ")\n";
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

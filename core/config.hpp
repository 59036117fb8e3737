#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace dray::core {

/// Process configuration, read once at start-up from the environment and argv.
struct Config {
  std::uint16_t port = 3000;
  std::string log_level = "info";
  std::string log_format = "text";                 ///< LOG_FORMAT: text or json
  std::vector<std::string> plugin_dirs;            ///< DRAY_PLUGIN_PATH, colon-separated
  std::string storage;                             ///< DRAY_STORAGE, or chosen from REDIS_* / "memory"
  std::string runtime = "docker";                  ///< DRAY_RUNTIME
  unsigned workers = 4;                            ///< DRAY_WORKERS: jobs run at the same time
  std::size_t spool_memory = 1 << 20;              ///< DRAY_SPOOL_MEMORY: bytes kept in RAM between steps
  std::size_t max_body = 1 << 20;                  ///< DRAY_MAX_BODY: largest accepted request body
  std::size_t max_queue = 1000;                    ///< DRAY_QUEUE: jobs waiting for a worker
  double step_timeout = 0;                         ///< DRAY_STEP_TIMEOUT: default step timeout, s (0 = none)
  double shutdown_grace = 10;                      ///< DRAY_SHUTDOWN_GRACE: s running jobs get on SIGTERM
  std::string instance = "dray";                   ///< DRAY_INSTANCE: labels our containers, owns our jobs
  std::size_t log_limit = 8u << 20;                ///< DRAY_LOG_LIMIT: output bytes logged per step
  std::size_t job_log_limit = 64u << 20;           ///< DRAY_JOB_LOG_LIMIT: output bytes logged per job
  std::vector<std::string> allowed_images;         ///< DRAY_ALLOWED_IMAGES: image patterns; empty = any
  std::size_t output_limit = 8u << 20;             ///< DRAY_OUTPUT_LIMIT: final output bytes kept per job
  std::uint64_t step_memory = 0;                   ///< DRAY_STEP_MEMORY: bytes, default and ceiling (0 = none)
  double step_cpus = 0;                            ///< DRAY_STEP_CPUS: CPUs, default and ceiling (0 = none)
  std::uint64_t step_pids_limit = 0;               ///< DRAY_STEP_PIDS_LIMIT: default and ceiling (0 = none)
  std::string step_network_mode;                   ///< DRAY_STEP_NETWORK_MODE: default network (empty = engine's)
  bool allow_host_network = false;                 ///< DRAY_ALLOW_HOST_NETWORK=1: networkMode host/container:*
  double events_heartbeat = 15;                    ///< DRAY_EVENTS_HEARTBEAT: s between SSE heartbeat comments
  std::string webhook_url;                         ///< DRAY_WEBHOOK_URL: receives every job's end
  std::string webhook_secret;                      ///< DRAY_WEBHOOK_SECRET: "whsec_…", signs those; never logged
  unsigned webhook_retries = 8;                    ///< DRAY_WEBHOOK_RETRIES: attempts after the first
  double webhook_timeout = 10;                     ///< DRAY_WEBHOOK_TIMEOUT: s per attempt
  std::vector<std::string> webhook_allowed_hosts;  ///< DRAY_WEBHOOK_ALLOWED_HOSTS: callback host globs
  double node_ttl = 10;                            ///< DRAY_NODE_TTL: s a node's lease lives unrenewed (shared storage)
  double stream_drain = 5;                         ///< DRAY_STREAM_DRAIN: s later steps get after a failure
  std::size_t stream_buffer = 256u << 10;          ///< DRAY_STREAM_BUFFER: bytes between two streamed steps
};

/// Reads an environment variable, or `fallback` when unset.
std::string envOr(const std::string& name, const std::string& fallback);

/// `text` as a whole number in [min, max]. Throws std::invalid_argument naming `what`,
/// the range and the text.
unsigned long parseNumber(const std::string& what, const std::string& text, unsigned long min, unsigned long max);

/// `text` as seconds (decimals allowed) in [min, max], default 0 to 30 days. Throws
/// std::invalid_argument naming `what`, the range and the text.
double parseSeconds(const std::string& what, const std::string& text, double min = 0, double max = 30 * 24 * 3600);

/// Builds the configuration. `default_plugin_dir` is used when DRAY_PLUGIN_PATH is unset.
/// Throws std::invalid_argument naming the bad setting.
Config loadConfig(int argc, const char* const argv[], const std::string& default_plugin_dir);

/// Usage text for --help.
std::string usage();

}  // namespace dray::core

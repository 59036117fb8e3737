#include "core/config.hpp"

#include <cstdlib>
#include <iomanip>
#include <sstream>
#include <stdexcept>

#include <Poco/NumberParser.h>
#include <Poco/StringTokenizer.h>

#include "core/image_policy.hpp"
#include "core/webhook_policy.hpp"
#include "core/webhook_signature.hpp"

namespace dray::core {
namespace {

// 2592000, 0.01: no exponent, no trailing zeros.
std::string plain(double value) {
  std::ostringstream out;
  out << std::setprecision(15) << value;
  return out.str();
}

std::string chooseStorage() {
  std::string chosen = envOr("DRAY_STORAGE", "");
  if (!chosen.empty()) return chosen;
  // The original found Redis through a link-style REDIS_PORT; keep that working.
  if (!envOr("REDIS_PORT", "").empty() || !envOr("REDIS_URL", "").empty()) return "redis";
  return "memory";
}

}  // namespace

unsigned long parseNumber(const std::string& what, const std::string& text, unsigned long min, unsigned long max) {
  Poco::UInt64 value = 0;
  if (!Poco::NumberParser::tryParseUnsigned64(text, value) || value < min || value > max) {
    throw std::invalid_argument(what + " must be a whole number from " + std::to_string(min) + " to " +
                                std::to_string(max) + ", got '" + text + "'");
  }
  return static_cast<unsigned long>(value);
}

double parseSeconds(const std::string& what, const std::string& text, double min, double max) {
  double value = 0;
  if (!Poco::NumberParser::tryParseFloat(text, value) || value < min || value > max) {
    throw std::invalid_argument(what + " must be a number of seconds from " + plain(min) + " to " + plain(max) +
                                ", got '" + text + "'");
  }
  return value;
}

std::string envOr(const std::string& name, const std::string& fallback) {
  const char* value = std::getenv(name.c_str());
  return value ? std::string(value) : fallback;
}

Config loadConfig(int argc, const char* const argv[], const std::string& default_plugin_dir) {
  Config config;
  config.log_level = envOr("LOG_LEVEL", "info");
  config.log_format = envOr("LOG_FORMAT", "text");
  config.storage = chooseStorage();
  config.runtime = envOr("DRAY_RUNTIME", "docker");
  config.workers = parseNumber("DRAY_WORKERS", envOr("DRAY_WORKERS", "4"), 1, 1024);
  config.spool_memory = parseNumber("DRAY_SPOOL_MEMORY", envOr("DRAY_SPOOL_MEMORY", "1048576"), 0, 1ul << 34);
  config.max_body = parseNumber("DRAY_MAX_BODY", envOr("DRAY_MAX_BODY", "1048576"), 1024, 1ul << 30);
  // At least 1: a job waits in the queue even for an idle worker, so 0 would refuse all jobs.
  config.max_queue = parseNumber("DRAY_QUEUE", envOr("DRAY_QUEUE", "1000"), 1, 1000000);
  config.step_timeout = parseSeconds("DRAY_STEP_TIMEOUT", envOr("DRAY_STEP_TIMEOUT", "0"));
  config.shutdown_grace = parseSeconds("DRAY_SHUTDOWN_GRACE", envOr("DRAY_SHUTDOWN_GRACE", "10"));
  config.log_limit = parseNumber("DRAY_LOG_LIMIT", envOr("DRAY_LOG_LIMIT", "8388608"), 0, 1ul << 40);
  config.job_log_limit = parseNumber("DRAY_JOB_LOG_LIMIT", envOr("DRAY_JOB_LOG_LIMIT", "67108864"), 0, 1ul << 40);
  config.instance = envOr("DRAY_INSTANCE", "dray");
  if (config.instance.empty() || config.instance.find_first_of("=, ") != std::string::npos) {
    throw std::invalid_argument("DRAY_INSTANCE must be a non-empty name without '=', ',' or spaces");
  }
  config.allowed_images = ImagePolicy::splitSetting(envOr("DRAY_ALLOWED_IMAGES", ""));
  try {
    ImagePolicy check(config.allowed_images);  // a typo must not silently allow nothing
  } catch (const ImageReferenceError& e) {
    throw std::invalid_argument(std::string("DRAY_ALLOWED_IMAGES: ") + e.what());
  }
  config.node_ttl = parseSeconds("DRAY_NODE_TTL", envOr("DRAY_NODE_TTL", "10"), 1, 3600);
  config.stream_drain = parseSeconds("DRAY_STREAM_DRAIN", envOr("DRAY_STREAM_DRAIN", "5"), 0, 3600);
  config.stream_buffer = parseNumber("DRAY_STREAM_BUFFER", envOr("DRAY_STREAM_BUFFER", "262144"), 4096, 1ul << 30);
  config.output_limit = parseNumber("DRAY_OUTPUT_LIMIT", envOr("DRAY_OUTPUT_LIMIT", "8388608"), 0, 1ul << 32);
  config.step_memory = parseNumber("DRAY_STEP_MEMORY", envOr("DRAY_STEP_MEMORY", "0"), 0, 1ul << 50);
  if (config.step_memory != 0 && config.step_memory < (6u << 20)) {
    throw std::invalid_argument("DRAY_STEP_MEMORY must be 0 (none) or at least 6291456 bytes (the engine's minimum)");
  }
  config.step_cpus = parseSeconds("DRAY_STEP_CPUS", envOr("DRAY_STEP_CPUS", "0"), 0, 1024);
  config.step_pids_limit = parseNumber("DRAY_STEP_PIDS_LIMIT", envOr("DRAY_STEP_PIDS_LIMIT", "0"), 0, 4194304);
  config.step_network_mode = envOr("DRAY_STEP_NETWORK_MODE", "");
  const std::string allow_host = envOr("DRAY_ALLOW_HOST_NETWORK", "0");
  if (allow_host != "0" && allow_host != "1") throw std::invalid_argument("DRAY_ALLOW_HOST_NETWORK must be 0 or 1");
  config.allow_host_network = allow_host == "1";
  config.webhook_url = envOr("DRAY_WEBHOOK_URL", "");
  if (std::string bad = WebhookPolicy::malformed(config.webhook_url); !config.webhook_url.empty() && !bad.empty())
    throw std::invalid_argument("DRAY_WEBHOOK_URL " + bad);
  config.webhook_secret = envOr("DRAY_WEBHOOK_SECRET", "");
  if (!config.webhook_secret.empty()) {
    try {
      webhookKey(config.webhook_secret);
    } catch (const std::invalid_argument& e) {
      throw std::invalid_argument(std::string("DRAY_WEBHOOK_SECRET ") + e.what());  // never the value
    }
  }
  config.webhook_retries =
      static_cast<unsigned>(parseNumber("DRAY_WEBHOOK_RETRIES", envOr("DRAY_WEBHOOK_RETRIES", "8"), 0, 30));
  config.webhook_timeout = parseSeconds("DRAY_WEBHOOK_TIMEOUT", envOr("DRAY_WEBHOOK_TIMEOUT", "10"), 0.1, 300);
  config.webhook_allowed_hosts = WebhookPolicy::splitSetting(envOr("DRAY_WEBHOOK_ALLOWED_HOSTS", ""));
  config.events_heartbeat = parseSeconds("DRAY_EVENTS_HEARTBEAT", envOr("DRAY_EVENTS_HEARTBEAT", "15"), 0.1, 3600);
  std::string path = envOr("DRAY_PLUGIN_PATH", default_plugin_dir);
  Poco::StringTokenizer dirs(path, ":", Poco::StringTokenizer::TOK_IGNORE_EMPTY | Poco::StringTokenizer::TOK_TRIM);
  config.plugin_dirs.assign(dirs.begin(), dirs.end());

  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    if ((arg == "-p" || arg == "--port") && i + 1 < argc) {
      config.port = static_cast<std::uint16_t>(parseNumber("port", argv[++i], 0, 65535));
    } else {
      throw std::invalid_argument("unknown argument '" + arg + "'\n" + usage());
    }
  }
  return config;
}

std::string usage() {
  return "usage: dray [-p PORT] [--version]\n"
         "  -p, --port PORT   listen port (default 3000; 0 picks a free one)\n"
         "  --version         print dray's version and plugin ABI, then exit\n"
         "environment: LOG_LEVEL, LOG_FORMAT, DOCKER_HOST, DRAY_STORAGE, DRAY_WORKERS, DRAY_QUEUE, DRAY_PLUGIN_PATH,\n"
         "             DRAY_RUNTIME, DRAY_STEP_TIMEOUT, DRAY_SHUTDOWN_GRACE, DRAY_INSTANCE, DRAY_LOG_LIMIT,\n"
         "             DRAY_JOB_LOG_LIMIT, DRAY_MEMORY_LIMIT, DRAY_SPOOL_MEMORY, DRAY_MAX_BODY, REDIS_URL,\n"
         "             REDIS_PORT (see README.md)\n"
         "  DRAY_OUTPUT_LIMIT    bytes of the last step's output kept as the job's output (8388608)\n"
         "  DRAY_NODE_TTL        s a node's lease on its DRAY_INSTANCE name lives unrenewed, on Redis (10)\n"
         "  DRAY_STREAM_BUFFER   bytes held between two steps of a stream-mode job (262144)\n"
         "  DRAY_STREAM_DRAIN    s the steps after a failed one get to end in stream mode (5)\n"
         "  DRAY_STEP_MEMORY, DRAY_STEP_CPUS, DRAY_STEP_PIDS_LIMIT  default and ceiling of each step's\n"
         "                       resources (0 = engine default, no ceiling); DRAY_STEP_NETWORK_MODE\n"
         "  DRAY_ALLOW_HOST_NETWORK  1: steps may ask for networkMode host or container:<id>\n"
         "  DRAY_KEY_TTL, DRAY_REMOVE_DONE, DRAY_JOBS_KEY, DRAY_MAX_JOBS  retention (storage plugins)\n"
         "  DRAY_EVENTS_HEARTBEAT  seconds between heartbeat comments on live event streams (15)\n"
         "  DRAY_WEBHOOK_URL, DRAY_WEBHOOK_SECRET  receive every job's end (signed with the whsec_ secret)\n"
         "  DRAY_WEBHOOK_RETRIES (8), DRAY_WEBHOOK_TIMEOUT (10 s)  per delivery, per attempt\n"
         "  DRAY_WEBHOOK_ALLOWED_HOSTS  host globs jobs' callbacks may reach (needed for private addresses)\n"
         "  DOCKER_CONFIG_FILE   Docker CLI config.json whose auths are used for pulls\n"
         "  DRAY_ALLOWED_IMAGES  comma-separated image patterns steps may run ('*' within one path\n"
         "                       component, '**' across; 'team/*' = docker.io/team/*); unset: any image\n"
         "security (see docs/security.md):\n"
         "  DRAY_LISTEN          IP address to listen on (default 0.0.0.0)\n"
         "  DRAY_TOKEN           one admin bearer token (named 'default'), at least 16 characters\n"
         "  DRAY_TOKENS_FILE     file of 'name role token' lines (roles admin, user, read), mode 0400/0600\n"
         "  DRAY_METRICS_PUBLIC  1: GET /metrics needs no token\n"
         "  DRAY_TLS_CERT, DRAY_TLS_KEY  PEM certificate and key: HTTPS only\n"
         "  DRAY_TLS_CLIENT_CA   PEM CA that must have signed every client's certificate (mTLS)\n"
         "  DRAY_MAX_CONNECTIONS_PER_IP (64), DRAY_MAX_CONNECTIONS (4096), DRAY_HEADER_TIMEOUT (10 s),\n"
         "  DRAY_BODY_TIMEOUT (30 s), DRAY_IDLE_TIMEOUT (60 s), DRAY_MAX_HEADER_BYTES (16384),\n"
         "  DRAY_MAX_HEADER_FIELDS (100): limits of the HTTP front\n";
}

}  // namespace dray::core

#include "dray/sdk/export.hpp"
#include "plugins/storage/common/retention.hpp"
#include "plugins/storage/redis/redis_storage.hpp"

namespace {

using namespace dray::plugins::storage::redis;

const dray::sdk::OptionSpec kOptions[] = {
    {"url", "", "redis://[:password@]host:port[/db]; wins over port", "REDIS_URL"},
    {"port", "", "the original's link-style address tcp://host:port (default 127.0.0.1:6379)", "REDIS_PORT"},
    {"pool-size", "8", "connections kept open", nullptr},
    {"timeout-ms", "2000", "connect and reply timeout", nullptr},
    {"startup-wait-s", "10", "how long start-up waits for Redis before giving up", nullptr},
    {"batch-lines", "1000", "log lines per RPUSH at most", nullptr},
    {"flush-ms", "0",
     "0: group commit (a write goes out as soon as the writer is free; what queued meanwhile "
     "goes in the next round trip); N > 0: also gather for up to N ms first",
     nullptr},
    {"max-pending-mb", "64", "queued log data before steps are slowed down", nullptr},
    {"jobs-key", "jobs", "key prefix, replaces `jobs` in every key (<prefix>, <prefix>:<id>, ...)", "DRAY_JOBS_KEY"},
    {"key-ttl", "0", "seconds; > 0: every key of a job expires this long after its last write", "DRAY_KEY_TTL"},
    {"remove-done", "false", "true: a job that ended leaves the jobs list; its keys stay", "DRAY_REMOVE_DONE"},
};

unsigned long number(const dray::sdk::PluginContext& context, const std::string& name, unsigned long min = 1) {
  const std::string& text = context.options.at(name);
  try {
    std::size_t used = 0;
    unsigned long value = std::stoul(text, &used);
    if (used == text.size() && value >= min && text[0] != '-' && text[0] != '+') return value;
  } catch (const std::exception&) {
  }
  throw dray::sdk::ConfigError("redis option " + name + " must be a whole number of at least " + std::to_string(min) +
                               ", got '" + text + "'");
}

// Any bytes are a valid Redis key, but an empty prefix or one with spaces or control
// characters (a stray newline from a secrets file) is a mistake, not a choice.
std::string jobsKey(const std::string& text) {
  bool plain = !text.empty();
  for (unsigned char c : text) plain = plain && c > ' ' && c != 0x7f;
  if (!plain) {
    throw dray::sdk::ConfigError(
        "DRAY_JOBS_KEY (jobs-key) must be a non-empty key prefix without spaces or control "
        "characters, got '" +
        text + "'");
  }
  return text;
}

dray::sdk::Plugin* create(const dray::sdk::PluginContext& context) {
  RedisAddress address;
  if (!context.options.at("url").empty()) {
    address = parseRedisUrl(context.options.at("url"));
  } else if (!context.options.at("port").empty()) {
    address = parseRedisPort(context.options.at("port"));
  }
  RedisStorageOptions options;
  options.pool_size = number(context, "pool-size");
  options.timeout = std::chrono::milliseconds(number(context, "timeout-ms"));
  options.startup_wait = std::chrono::seconds(number(context, "startup-wait-s"));
  options.writes.batch_lines = number(context, "batch-lines");
  options.writes.flush_interval = std::chrono::milliseconds(number(context, "flush-ms", 0));
  options.writes.max_pending_bytes = number(context, "max-pending-mb") << 20;
  options.jobs_key = jobsKey(context.options.at("jobs-key"));
  options.retention.key_ttl = dray::plugins::storage::parseKeyTtl(context.options.at("key-ttl"));
  options.retention.remove_done = dray::plugins::storage::parseRemoveDone(context.options.at("remove-done"));
  return new RedisStorage(address, options, context.logger);
}

}  // namespace

DRAY_PLUGIN(storage, "redis", "1.0.0", "keeps jobs and logs in Redis, in the original Dray's schema",
            dray::sdk::options(kOptions), create)

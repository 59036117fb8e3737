#include "dray/sdk/export.hpp"
#include "plugins/storage/common/retention.hpp"
#include "plugins/storage/memory/memory_accounting.hpp"
#include "plugins/storage/memory/memory_storage.hpp"

namespace {

const dray::sdk::OptionSpec kOptions[] = {
    {"memory-limit", "268435456", "bytes all jobs and logs may take; the oldest finished jobs' logs are dropped first",
     "DRAY_MEMORY_LIMIT"},
    {"max-jobs", "10000", "finished jobs kept; beyond it the one that finished first is deleted (0: no bound)",
     "DRAY_MAX_JOBS"},
    {"key-ttl", "0", "seconds; > 0: a job is deleted this long after its last write", "DRAY_KEY_TTL"},
    {"remove-done", "false", "true: a job that ended leaves GET /jobs; GET /jobs/{id} still finds it",
     "DRAY_REMOVE_DONE"},
};

dray::sdk::Plugin* create(const dray::sdk::PluginContext& context) {
  using namespace dray::plugins::storage;
  memory::MemoryStorageOptions options;
  options.limit = memory::parseMemoryLimit(context.options.at("memory-limit"));
  options.max_jobs = memory::parseMaxJobs(context.options.at("max-jobs"));
  options.retention.key_ttl = parseKeyTtl(context.options.at("key-ttl"));
  options.retention.remove_done = parseRemoveDone(context.options.at("remove-done"));
  return new memory::MemoryStorage(std::move(options));
}

}  // namespace

DRAY_PLUGIN(storage, "memory", "1.0.0", "keeps jobs and logs in process memory (lost on restart)",
            dray::sdk::options(kOptions), create)

#include "dray/sdk/export.hpp"
#include "plugins/storage/memory/memory_accounting.hpp"
#include "plugins/storage/memory/memory_storage.hpp"

namespace {

const dray::sdk::OptionSpec kOptions[] = {
    {"memory-limit", "268435456", "bytes all jobs and logs may take; the oldest finished jobs' logs are dropped first",
     "DRAY_MEMORY_LIMIT"},
};

dray::sdk::Plugin* create(const dray::sdk::PluginContext& context) {
  using namespace dray::plugins::storage::memory;
  return new MemoryStorage(parseMemoryLimit(context.options.at("memory-limit")));
}

}  // namespace

DRAY_PLUGIN(storage, "memory", "1.0.0", "keeps jobs and logs in process memory (lost on restart)",
            dray::sdk::options(kOptions), create)

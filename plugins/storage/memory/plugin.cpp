#include "dray/sdk/export.hpp"
#include "memory_storage.hpp"

namespace {
dray::sdk::Plugin* create(const dray::sdk::PluginContext&) { return new dray::plugins::storage::memory::MemoryStorage(); }
}  // namespace

DRAY_PLUGIN(storage, "memory", "1.0.0", "keeps jobs and logs in process memory (lost on restart)",
            dray::sdk::OptionList{}, create)

#include "dray/sdk/export.hpp"
#include "plugins/output/file/file_channel.hpp"

namespace {
dray::sdk::Plugin* create(const dray::sdk::PluginContext&) { return new dray::plugins::output::file::FileChannel(); }
}  // namespace

DRAY_PLUGIN(output, "file", "1.0.0", "passes a file written inside the container to the next step",
            dray::sdk::OptionList{}, create)

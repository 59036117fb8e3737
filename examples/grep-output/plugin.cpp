#include "dray/sdk/export.hpp"
#include "grep_channel.hpp"

namespace {
dray::sdk::Plugin* create(const dray::sdk::PluginContext&) { return new dray::examples::grep::GrepChannel(); }
}  // namespace

DRAY_PLUGIN(output, "grep", "1.0.0", "passes on only the stdout lines matching grep:<regex>", dray::sdk::OptionList{},
            create)

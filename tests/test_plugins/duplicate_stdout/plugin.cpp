// A second output plugin named "stdout": the loader must refuse it, naming both files.
#include "dray/sdk/export.hpp"
#include "dray/sdk/output_channel.hpp"

namespace {
dray::sdk::Plugin* create(const dray::sdk::PluginContext&) { return nullptr; }
}  // namespace

DRAY_PLUGIN(output, "stdout", "0.0.1", "duplicate of the built-in stdout channel", dray::sdk::OptionList{}, create)

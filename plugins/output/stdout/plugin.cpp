#include "dray/sdk/export.hpp"
#include "plugins/output/stdout/stdout_channel.hpp"

namespace {
dray::sdk::Plugin* create(const dray::sdk::PluginContext&) {
  return new dray::plugins::output::stdout::StdoutChannel();
}
}  // namespace

DRAY_PLUGIN(output, "stdout", "1.0.0", "passes the step's stdout to the next step", dray::sdk::OptionList{}, create)

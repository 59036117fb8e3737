#include "dray/sdk/export.hpp"
#include "plugins/output/stderr/stderr_channel.hpp"

namespace {
dray::sdk::Plugin* create(const dray::sdk::PluginContext&) {
  return new dray::plugins::output::stderr::StderrChannel();
}
}  // namespace

DRAY_PLUGIN(output, "stderr", "1.0.0", "passes the step's stderr to the next step", dray::sdk::OptionList{}, create)

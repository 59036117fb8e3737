// A plugin that calls a function no library defines (built without --no-undefined on
// purpose): loading with RTLD_NOW must fail cleanly instead of crashing at first call.
#include "dray/sdk/export.hpp"
#include "dray/sdk/output_channel.hpp"

extern "C" dray::sdk::Plugin* dray_function_that_does_not_exist();

namespace {
dray::sdk::Plugin* create(const dray::sdk::PluginContext&) { return dray_function_that_does_not_exist(); }
}  // namespace

DRAY_PLUGIN(output, "missing-symbol", "1.0.0", "needs a symbol nobody provides", dray::sdk::OptionList{}, create)

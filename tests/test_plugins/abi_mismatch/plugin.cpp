// A plugin that claims the next ABI version: the loader must refuse it before calling anything.
#include <boost/dll/alias.hpp>

#include "dray/sdk/output_channel.hpp"
#include "dray/sdk/version.hpp"

namespace {
dray::sdk::Plugin* create(const dray::sdk::PluginContext&) { return nullptr; }
}  // namespace

namespace future {
extern const dray::sdk::PluginDescriptor descriptor;
const dray::sdk::PluginDescriptor descriptor{
    dray::sdk::kAbiVersion + 1, dray::sdk::PluginKind::kOutput, "future", "9.0.0",
    "built for another ABI",    dray::sdk::OptionList{},        create};
}  // namespace future

BOOST_DLL_ALIAS(future::descriptor, dray_plugin_descriptor)

// A storage plugin whose factory throws: creating it must fail with its message.
#include "dray/sdk/errors.hpp"
#include "dray/sdk/export.hpp"
#include "dray/sdk/storage.hpp"

namespace {

const dray::sdk::OptionSpec kOptions[] = {
    {"mode", "strict", "how to fail", nullptr},
};

dray::sdk::Plugin* create(const dray::sdk::PluginContext& context) {
  throw dray::sdk::ConfigError("cannot start in mode " + context.options.at("mode"));
}

}  // namespace

DRAY_PLUGIN(storage, "failing", "1.0.0", "always fails to start", dray::sdk::options(kOptions), create)

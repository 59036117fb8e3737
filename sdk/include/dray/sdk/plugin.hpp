/// The descriptor every plugin exports, and what its factory receives.
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <string>

#include "dray/sdk/log.hpp"
#include "dray/sdk/visibility.hpp"

namespace dray::sdk {

enum class PluginKind : std::uint32_t { kOutput = 1, kStorage = 2, kRuntime = 3 };

/// One declared option, like a config-map entry. All strings are static.
/// Values come from the environment variable `DRAY_<KIND>_<NAME>_<OPTION>` (upper case,
/// `-` as `_`), else from `env` when non-null, else `default_value`.
struct OptionSpec {
  const char* name;
  const char* default_value;
  const char* help;
  const char* env;  ///< a conventional variable that also sets it (e.g. "DOCKER_HOST"), or nullptr
};

/// A static array of OptionSpec. Build one with dray::sdk::options(array) or leave empty.
struct OptionList {
  const OptionSpec* items = nullptr;
  std::size_t count = 0;
};

template <std::size_t N>
constexpr OptionList options(const OptionSpec (&items)[N]) {
  return OptionList{items, N};
}

/// Option values after the host applied defaults; only declared names appear.
using OptionValues = std::map<std::string, std::string>;

/// What a factory gets. Both references outlive the created object.
struct PluginContext {
  Logger& logger;               ///< process log, backed by spdlog
  const OptionValues& options;  ///< every declared option, with its value
};

/// Base of every plugin object. The host deletes it through this virtual destructor
/// while the plugin's library is still loaded.
class DRAY_SDK_API Plugin {
 public:
  virtual ~Plugin() = default;
};

/// Creates the plugin object. May throw PluginError (e.g. ConfigError); must not return null.
using PluginFactory = Plugin* (*)(const PluginContext& context);

/// Exported by each plugin library under the alias `dray_plugin_descriptor`.
/// `abi_version` is the first field forever: the host reads it before anything else.
struct PluginDescriptor {
  std::uint32_t abi_version;
  PluginKind kind;
  const char* name;     ///< unique per kind, e.g. "stdout"
  const char* version;  ///< the plugin's own version, "x.y.z"
  const char* summary;  ///< one line for /plugins and logs
  OptionList options;
  PluginFactory create;
};

}  // namespace dray::sdk

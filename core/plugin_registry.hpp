#pragma once

#include <memory>
#include <string>
#include <vector>

#include "core/plugin_loader.hpp"
#include "dray/sdk/log.hpp"

namespace dray::core {

/// The loaded plugins, and the only place plugin objects are created.
/// Every object gets a deleter that owns its library, so code is never unmapped
/// while an object from it lives.
class PluginRegistry {
 public:
  /// `logger` is handed to every factory and must outlive every object created here.
  PluginRegistry(std::vector<LoadedPlugin> plugins, sdk::Logger& logger);

  const std::vector<LoadedPlugin>& plugins() const { return plugins_; }
  const LoadedPlugin* find(sdk::PluginKind kind, const std::string& name) const;
  std::vector<std::string> names(sdk::PluginKind kind) const;

  /// Creates the plugin `name` of `kind` as `T`, resolving its options from the environment.
  /// Throws std::runtime_error naming the problem: unknown plugin, bad option, factory error.
  template <typename T>
  std::shared_ptr<T> create(sdk::PluginKind kind, const std::string& name) const {
    auto object = createPlugin(kind, name);
    auto typed = std::dynamic_pointer_cast<T>(object);
    if (!typed) throw std::runtime_error(describeMismatch(kind, name));
    return typed;
  }

 private:
  std::shared_ptr<sdk::Plugin> createPlugin(sdk::PluginKind kind, const std::string& name) const;
  std::string describeMismatch(sdk::PluginKind kind, const std::string& name) const;

  std::vector<LoadedPlugin> plugins_;
  sdk::Logger& logger_;
};

/// Option values for a plugin: DRAY_<KIND>_<NAME>_<OPTION>, then the option's conventional
/// variable, then its default. Throws std::invalid_argument for a DRAY_<KIND>_<NAME>_*
/// variable that names no declared option.
sdk::OptionValues resolveOptions(const PluginInfo& info);

}  // namespace dray::core

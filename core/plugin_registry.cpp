#include "core/plugin_registry.hpp"

#include <stdexcept>

#include <Poco/Environment.h>
#include <Poco/String.h>

extern char** environ;

namespace dray::core {
namespace {

std::string envPrefix(const PluginInfo& info) {
  std::string prefix = std::string("DRAY_") + kindName(info.kind) + "_" + info.name + "_";
  Poco::toUpperInPlace(prefix);
  Poco::replaceInPlace(prefix, "-", "_");
  return prefix;
}

std::string optionVariable(const std::string& prefix, const std::string& option) {
  std::string name = prefix + option;
  Poco::toUpperInPlace(name);
  Poco::replaceInPlace(name, "-", "_");
  return name;
}

}  // namespace

sdk::OptionValues resolveOptions(const PluginInfo& info) {
  const std::string prefix = envPrefix(info);
  sdk::OptionValues values;
  for (const auto& option : info.options) {
    std::string value = option.default_value;
    if (!option.env.empty() && Poco::Environment::has(option.env)) value = Poco::Environment::get(option.env);
    std::string own = optionVariable(prefix, option.name);
    if (Poco::Environment::has(own)) value = Poco::Environment::get(own);
    values[option.name] = value;
  }
  // An unknown key is a start-up error, never silently ignored (a typo would hide).
  for (char** entry = environ; entry && *entry; ++entry) {
    std::string variable(*entry);
    variable = variable.substr(0, variable.find('='));
    if (variable.rfind(prefix, 0) != 0) continue;
    bool declared = false;
    for (const auto& option : info.options) declared |= optionVariable(prefix, option.name) == variable;
    if (!declared) {
      throw std::invalid_argument(variable + " names no option of " + kindName(info.kind) + " plugin '" + info.name +
                                  "'");
    }
  }
  return values;
}

PluginRegistry::PluginRegistry(std::vector<LoadedPlugin> plugins, sdk::Logger& logger)
    : plugins_(std::move(plugins)), logger_(logger) {}

const LoadedPlugin* PluginRegistry::find(sdk::PluginKind kind, const std::string& name) const {
  for (const auto& plugin : plugins_) {
    if (plugin.info.kind == kind && plugin.info.name == name) return &plugin;
  }
  return nullptr;
}

std::vector<std::string> PluginRegistry::names(sdk::PluginKind kind) const {
  std::vector<std::string> result;
  for (const auto& plugin : plugins_) {
    if (plugin.info.kind == kind) result.push_back(plugin.info.name);
  }
  return result;
}

std::shared_ptr<sdk::Plugin> PluginRegistry::createPlugin(sdk::PluginKind kind, const std::string& name) const {
  const LoadedPlugin* plugin = find(kind, name);
  if (!plugin) {
    std::string known;
    for (const auto& n : names(kind)) known += (known.empty() ? "" : ", ") + n;
    throw std::runtime_error(std::string("no ") + kindName(kind) + " plugin named '" + name +
                             "' is loaded (loaded: " + (known.empty() ? "none" : known) + ")");
  }
  // The context promises that both references outlive the object: the options live as
  // long as the object's deleter, the logger as long as this registry.
  auto options = std::make_shared<const sdk::OptionValues>(resolveOptions(plugin->info));
  sdk::PluginContext context{logger_, *options};
  sdk::Plugin* raw = nullptr;
  try {
    raw = plugin->descriptor->create(context);
  } catch (const std::exception& e) {
    throw std::runtime_error(std::string(kindName(kind)) + " plugin '" + name + "' failed to start: " + e.what());
  }
  if (!raw) throw std::runtime_error(std::string(kindName(kind)) + " plugin '" + name + "' returned no object");
  // The deleter owns the library: the object's code stays mapped until it is gone.
  auto library = plugin->library;
  return std::shared_ptr<sdk::Plugin>(raw, [library, options](sdk::Plugin* p) { delete p; });
}

std::string PluginRegistry::describeMismatch(sdk::PluginKind kind, const std::string& name) const {
  return std::string(kindName(kind)) + " plugin '" + name + "' does not implement the " + kindName(kind) + " interface";
}

}  // namespace dray::core

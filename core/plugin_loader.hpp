#pragma once

#include <memory>
#include <string>
#include <vector>

#include <boost/dll/shared_library.hpp>

#include "dray/sdk/plugin.hpp"

namespace dray::core {

/// A copy of one declared option (the descriptor's strings live in the library).
struct OptionInfo {
  std::string name;
  std::string default_value;
  std::string help;
  std::string env;
};

/// What the host knows about a loaded plugin, for /plugins and logs.
struct PluginInfo {
  sdk::PluginKind kind;
  std::string name;
  std::string version;
  std::string summary;
  std::string file;
  std::vector<OptionInfo> options;
};

/// A plugin library that passed every check. `library` keeps the code mapped; every
/// object created from `descriptor` must hold a copy of it (see PluginRegistry).
struct LoadedPlugin {
  PluginInfo info;
  std::shared_ptr<boost::dll::shared_library> library;
  const sdk::PluginDescriptor* descriptor = nullptr;
};

const char* kindName(sdk::PluginKind kind);

/// Finds and loads plugin libraries. Failures are logged and skipped, never fatal:
/// a file that is not a shared library, has no descriptor, was built for another ABI
/// version, or repeats a kind and name already loaded.
class PluginLoader {
 public:
  /// Loads one file. Returns nullptr (and logs why) when it is not a usable plugin.
  static std::unique_ptr<LoadedPlugin> loadFile(const std::string& path);

  /// Loads every `*.so` in each directory, in order, sorted by file name.
  /// Later duplicates of a kind and name are refused with a log line naming both files.
  static std::vector<LoadedPlugin> loadDirectories(const std::vector<std::string>& dirs);
};

}  // namespace dray::core

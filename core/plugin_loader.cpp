#include "core/plugin_loader.hpp"

#include <algorithm>
#include <filesystem>
#include <map>

#include <spdlog/spdlog.h>
#include <boost/dll/library_info.hpp>

#include "dray/sdk/export.hpp"
#include "dray/sdk/version.hpp"

namespace dray::core {
namespace fs = std::filesystem;

const char* kindName(sdk::PluginKind kind) {
  switch (kind) {
    case sdk::PluginKind::kOutput:
      return "output";
    case sdk::PluginKind::kStorage:
      return "storage";
    case sdk::PluginKind::kRuntime:
      return "runtime";
  }
  return "unknown";
}

namespace {

bool validKind(sdk::PluginKind kind) {
  return kind == sdk::PluginKind::kOutput || kind == sdk::PluginKind::kStorage || kind == sdk::PluginKind::kRuntime;
}

std::string text(const char* s) { return s ? std::string(s) : std::string(); }

// Reads the ELF section table without running any code from the file, so a library
// that is no plugin is skipped before dlopen runs its static initialisers. Only the
// section is checked: its symbols live in .symtab, which stripped plugins no longer have.
bool hasAliasSection(const std::string& path) {
  boost::dll::library_info info(fs::path(path), /*throw_if_not_native=*/true);
  auto sections = info.sections();
  return std::find(sections.begin(), sections.end(), "boostdll") != sections.end();
}

PluginInfo describe(const sdk::PluginDescriptor& d, const std::string& path) {
  PluginInfo info{d.kind, text(d.name), text(d.version), text(d.summary), path, {}};
  for (std::size_t i = 0; i < d.options.count; ++i) {
    const auto& o = d.options.items[i];
    info.options.push_back({text(o.name), text(o.default_value), text(o.help), text(o.env)});
  }
  return info;
}

}  // namespace

std::unique_ptr<LoadedPlugin> PluginLoader::loadFile(const std::string& path) {
  try {
    const std::string not_a_plugin =
        std::string("skipped, it exports no ") + DRAY_PLUGIN_ALIAS_NAME + " (not a dray plugin)";
    if (!hasAliasSection(path)) {
      spdlog::warn("plugin {}: {}", path, not_a_plugin);
      return nullptr;
    }
    // rtld_now: an unresolved symbol fails here, instead of killing the process later.
    auto library = std::make_shared<boost::dll::shared_library>(
        fs::path(path), boost::dll::load_mode::rtld_now | boost::dll::load_mode::rtld_local);
    if (!library->has(DRAY_PLUGIN_ALIAS_NAME)) {
      spdlog::warn("plugin {}: {}", path, not_a_plugin);
      return nullptr;
    }
    const auto& descriptor = library->get_alias<const sdk::PluginDescriptor>(DRAY_PLUGIN_ALIAS_NAME);
    // The ABI version is the first field and the only one read before the check.
    if (descriptor.abi_version != sdk::kAbiVersion) {
      spdlog::error("plugin {}: refused, built for ABI version {} but this dray expects ABI version {}", path,
                    descriptor.abi_version, sdk::kAbiVersion);
      return nullptr;
    }
    if (!validKind(descriptor.kind) || !descriptor.name || !*descriptor.name || !descriptor.create) {
      spdlog::error("plugin {}: refused, its descriptor has no valid kind, name or factory", path);
      return nullptr;
    }
    auto loaded = std::make_unique<LoadedPlugin>();
    loaded->info = describe(descriptor, path);
    loaded->library = std::move(library);
    loaded->descriptor = &descriptor;
    return loaded;
  } catch (const std::exception& e) {
    spdlog::error("plugin {}: skipped, cannot load: {}", path, e.what());
    return nullptr;
  }
}

std::vector<LoadedPlugin> PluginLoader::loadDirectories(const std::vector<std::string>& dirs) {
  std::vector<LoadedPlugin> plugins;
  std::map<std::pair<sdk::PluginKind, std::string>, std::string> seen;  // -> file
  for (const auto& dir : dirs) {
    std::error_code ec;
    std::vector<std::string> files;
    for (const auto& entry : fs::directory_iterator(dir, ec)) {
      if (entry.path().extension() == ".so" && entry.is_regular_file()) {
        files.push_back(fs::absolute(entry.path()).string());
      }
    }
    if (ec) {
      spdlog::warn("plugin directory {}: cannot read: {}", dir, ec.message());
      continue;
    }
    std::sort(files.begin(), files.end());
    for (const auto& file : files) {
      auto loaded = loadFile(file);
      if (!loaded) continue;
      auto key = std::make_pair(loaded->info.kind, loaded->info.name);
      if (auto it = seen.find(key); it != seen.end()) {
        spdlog::error("plugin {}: refused, {} plugin '{}' is already loaded from {}", file, kindName(key.first),
                      key.second, it->second);
        continue;
      }
      seen.emplace(key, file);
      plugins.push_back(std::move(*loaded));
    }
  }
  return plugins;
}

}  // namespace dray::core

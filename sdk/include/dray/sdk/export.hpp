/// DRAY_PLUGIN: the one registration line a plugin's plugin.cpp contains.
#pragma once

#include <boost/dll/alias.hpp>

#include "dray/sdk/plugin.hpp"
#include "dray/sdk/version.hpp"

/// Exports a PluginDescriptor for this library.
/// @param kind_     output | storage | runtime
/// @param name_     string literal, unique per kind
/// @param version_  string literal "x.y.z"
/// @param summary_  string literal, one line
/// @param options_  a dray::sdk::OptionList (dray::sdk::OptionList{} for none)
/// @param factory_  a function `dray::sdk::Plugin* f(const dray::sdk::PluginContext&)`
/// Use once per library, at namespace scope.
#define DRAY_PLUGIN(kind_, name_, version_, summary_, options_, factory_)                                 \
  namespace dray_plugin_registration {                                                                    \
  extern const ::dray::sdk::PluginDescriptor descriptor;                                                  \
  const ::dray::sdk::PluginDescriptor descriptor{                                                         \
      ::dray::sdk::kAbiVersion, DRAY_PLUGIN_KIND_##kind_, name_, version_, summary_, options_, factory_}; \
  }                                                                                                       \
  BOOST_DLL_ALIAS(dray_plugin_registration::descriptor, dray_plugin_descriptor)

#define DRAY_PLUGIN_KIND_output ::dray::sdk::PluginKind::kOutput
#define DRAY_PLUGIN_KIND_storage ::dray::sdk::PluginKind::kStorage
#define DRAY_PLUGIN_KIND_runtime ::dray::sdk::PluginKind::kRuntime

/// The alias name the host looks up.
#define DRAY_PLUGIN_ALIAS_NAME "dray_plugin_descriptor"

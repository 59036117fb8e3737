/// Exceptions a plugin may throw to the host; anything else is reported as an internal error.
#pragma once

#include <stdexcept>

#include "dray/sdk/visibility.hpp"

namespace dray::sdk {

/// Base of every error a plugin reports on purpose. The message is shown to users
/// (job log, API error), so it must say what went wrong in plain words.
class DRAY_SDK_API PluginError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

/// The runtime could not find or pull the image of a step.
class DRAY_SDK_API ImageUnavailable : public PluginError {
 public:
  using PluginError::PluginError;
};

/// The container engine failed or could not be reached.
class DRAY_SDK_API EngineError : public PluginError {
 public:
  using PluginError::PluginError;
};

/// The engine did not do what it was asked in time (e.g. a kill that never took effect):
/// the run was abandoned and the container handed to the runtime's background retries.
/// The message names the container and what the engine failed to do; the host logs it
/// even when the step was stopped on purpose (cancel, timeout).
class DRAY_SDK_API EngineUnresponsive : public EngineError {
 public:
  using EngineError::EngineError;
};

/// The storage backend failed or could not be reached.
class DRAY_SDK_API StorageError : public PluginError {
 public:
  using PluginError::PluginError;
};

/// The plugin's options are invalid; thrown from a factory.
class DRAY_SDK_API ConfigError : public PluginError {
 public:
  using PluginError::PluginError;
};

}  // namespace dray::sdk

/// Access to an exited container's files, used by output channels to copy results out.
#pragma once

#include <string>

#include "dray/sdk/stream.hpp"
#include "dray/sdk/visibility.hpp"

namespace dray::sdk {

/// Valid only during the call it is passed to (ExitHook::afterExit, Capture::afterExit);
/// used from that one thread.
class DRAY_SDK_API ContainerFiles {
 public:
  virtual ~ContainerFiles() = default;

  /// Streams the regular file at absolute `path` into `sink` (a symlink to a regular file
  /// is followed). @return false only when nothing exists at `path`. Throws PluginError
  /// naming the path when it is something else (directory, device, FIFO, a link to one of
  /// those or to nothing), EngineError on engine failures.
  virtual bool copyFileOut(const std::string& path, ByteSink& sink) = 0;
};

}  // namespace dray::sdk

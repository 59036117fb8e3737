/// Output channels: which part of a step's output becomes the next step's stdin.
#pragma once

#include <memory>
#include <string_view>

#include "dray/sdk/container_files.hpp"
#include "dray/sdk/log.hpp"
#include "dray/sdk/plugin.hpp"
#include "dray/sdk/stream.hpp"
#include "dray/sdk/types.hpp"
#include "dray/sdk/visibility.hpp"

namespace dray::sdk {

/// Captures one step's output. Created per step by OutputChannel::open and used by one
/// thread at a time (it may be opened on another thread than the one that runs the step,
/// when the host prepares a step ahead of its turn), in this order: prepare, then onStdout/onStderr as chunks arrive
/// (lines may be split across chunks), then afterExit if the container exited with 0.
/// The host logs every stdout/stderr line itself; a capture only decides what is passed on.
class DRAY_SDK_API Capture {
 public:
  virtual ~Capture() = default;

  /// May adjust the container before it is created (env, labels). Default: nothing.
  virtual void prepare(ContainerSpec& spec) { (void)spec; }

  /// A chunk of the container's stdout.
  virtual void onStdout(std::string_view chunk) = 0;

  /// A chunk of the container's stderr.
  virtual void onStderr(std::string_view chunk) = 0;

  /// The container exited with 0 and still exists: copy files out through `files`.
  /// Throw PluginError to fail the step.
  virtual void afterExit(ContainerFiles& files) = 0;
};

using CapturePtr = std::unique_ptr<Capture>;

/// A kind of output ("stdout", "stderr", an absolute path, or a scheme a third party adds).
/// One instance serves all jobs: methods are called concurrently from worker threads.
class DRAY_SDK_API OutputChannel : public Plugin {
 public:
  /// True if this channel handles the `output` value of a step. Must be cheap and pure;
  /// the API calls it to validate jobs before they are accepted.
  virtual bool accepts(std::string_view output) const = 0;

  /// Starts capturing for `step`. Bytes for the next step go to `next` (valid until the
  /// capture is destroyed); `job_log` adds "dray: " lines to the job's log.
  virtual CapturePtr open(const StepSpec& step, ByteSink& next, Logger& job_log) = 0;
};

}  // namespace dray::sdk

/// Runtime: runs one container with stdin from a source and stdout/stderr into sinks.
#pragma once

#include <memory>
#include <stop_token>
#include <string>
#include <vector>

#include "dray/sdk/container_files.hpp"
#include "dray/sdk/log.hpp"
#include "dray/sdk/plugin.hpp"
#include "dray/sdk/stream.hpp"
#include "dray/sdk/types.hpp"
#include "dray/sdk/visibility.hpp"

namespace dray::sdk {

/// Called once the container exited and before it is removed.
class DRAY_SDK_API ExitHook {
 public:
  virtual ~ExitHook() = default;
  virtual void afterExit(int exit_code, ContainerFiles& files) = 0;
};

/// How a container ended.
struct ContainerExit {
  int code = -1;            ///< the exit code
  bool oom_killed = false;  ///< the engine killed it for going past its memory limit
};

/// Where a container's streams come from and go to. All three outlive the run call.
struct RunIo {
  ByteSource& stdin_source;
  ByteSink& stdout_sink;  ///< written from the calling thread only
  ByteSink& stderr_sink;  ///< written from the calling thread only
};

/// A container that is created and attached but not started. The host prepares the next
/// step's container while the current step runs, so only start is left on the critical
/// path. Used by one thread at a time. Destroying it removes the container, whether or not
/// it ran (a removal the engine does not complete in time is handed to the runtime's
/// background retries rather than blocking), so the host can remove an exited container
/// off the critical path and a prepared container never outlives a canceled or failed job.
class DRAY_SDK_API PreparedContainer {
 public:
  virtual ~PreparedContainer() = default;

  /// Starts the container, streams stdin from `io.stdin_source` (closed at its end) and
  /// stdout/stderr into the sinks, waits, then calls `hook`. The exited container stays
  /// until this object is destroyed. When `stop` is requested the container is killed and
  /// EngineError("canceled") is thrown. Called at most once.
  ///
  /// Bounded: once `stop` is requested, run returns within the runtime's kill grace,
  /// whatever the engine does (a kill that does not take effect ends the call with an
  /// EngineError naming the container).
  ///
  /// Which thread stops: the host requests `stop` from an API handler thread (cancel), its
  /// watchdog thread (step timeout, job deadline) or its shutdown path, never while holding
  /// its own locks. A std::stop_callback registered on `stop` runs on that requesting
  /// thread, so it must not block: start the kill (or wake the waiting thread) and return.
  /// @return how the container ended. Throws EngineError on engine failures.
  virtual ContainerExit run(RunIo& io, ExitHook& hook, std::stop_token stop) = 0;
};

using PreparedContainerPtr = std::unique_ptr<PreparedContainer>;

/// Runs containers. One instance serves all workers: every method may be called
/// concurrently. Everything created carries `spec.labels` so orphans can be found.
class DRAY_SDK_API Runtime : public Plugin {
 public:
  /// Makes `image` available: pulls it when missing or when `refresh` is true.
  /// Progress goes to `job_log`. Throws ImageUnavailable with the engine's message, and
  /// EngineError("canceled") soon after `stop` is requested (a pull is abandoned).
  virtual void ensureImage(const std::string& image, bool refresh, Logger& job_log, std::stop_token stop = {}) = 0;

  /// Creates the container for `spec` and attaches to its streams (attach comes before
  /// start, so no output is lost). The image must be available (ensureImage).
  /// Throws EngineError when the engine refuses, or soon after `stop` is requested.
  virtual PreparedContainerPtr prepare(const ContainerSpec& spec, std::stop_token stop = {}) = 0;

  /// prepare() and PreparedContainer::run() in one call: create, attach, start, stream,
  /// wait, hook, remove (on every path).
  ContainerExit run(const ContainerSpec& spec, RunIo& io, ExitHook& hook, std::stop_token stop) {
    return prepare(spec, stop)->run(io, hook, stop);
  }

  /// Ids of containers (running or not) carrying a label: `label` is "key" or "key=value".
  /// Used to reap orphans of a dead dray at start-up.
  virtual std::vector<std::string> listLabelled(const std::string& label) = 0;

  /// Force-removes a container; no error if it is already gone. Bounded in time: true when
  /// the container is gone, false when the engine did not remove it in time, and the
  /// runtime then keeps trying in the background (see unremovedContainers()).
  virtual bool remove(const std::string& container_id) = 0;

  /// Containers the engine would not remove yet, still being retried in the background
  /// (for /metrics: dray_containers_unremoved).
  virtual std::size_t unremovedContainers() const { return 0; }

  /// A cheap reachability check of the engine. Must not throw.
  virtual HealthReport checkHealth() { return {true, "no check"}; }
};

}  // namespace dray::sdk

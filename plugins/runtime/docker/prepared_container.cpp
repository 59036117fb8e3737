#include "plugins/runtime/docker/prepared_container.hpp"

#include <Poco/Exception.h>

#include "dray/sdk/errors.hpp"
#include "plugins/runtime/docker/container_files.hpp"
#include "plugins/runtime/docker/docker_runtime.hpp"
#include "plugins/runtime/docker/stop_guard.hpp"
#include "plugins/runtime/docker/stream_pump.hpp"

namespace dray::plugins::runtime::docker {

DockerPreparedContainer::~DockerPreparedContainer() {
  stream_.reset();  // close our end of the attach first
  if (abandoned_) {
    runtime_.reaper_->remove(id_);  // the engine is stuck on it: never block a worker
  } else {
    runtime_.remove(id_);  // bounded; hands over to the reaper when the engine does not answer
  }
}

void DockerPreparedContainer::attach(CallInterrupt& interrupt) {
  stream_ = runtime_.client_.attach(id_, runtime_.timeouts_.call, &interrupt);
}

sdk::ContainerExit DockerPreparedContainer::run(sdk::RunIo& io, sdk::ExitHook& hook, std::stop_token stop) {
  if (ran_) throw sdk::EngineError("container " + shortId() + " was already run");
  ran_ = true;
  if (stop.stop_requested()) throw sdk::EngineError("canceled");
  int exit_code = -1;
  {
    StopGuard guard(
        stop, runtime_.timeouts_.kill_grace, [this](CallInterrupt& call) { runtime_.kill(id_, call); }, calls_);
    std::exception_ptr failure;
    try {
      exit_code = startStreamAndWait(io);
    } catch (...) {
      failure = std::current_exception();
    }
    abandoned_ = guard.finish();
    if (abandoned_) {
      const auto grace = std::chrono::duration<double>(runtime_.timeouts_.kill_grace).count();
      char seconds[32];
      std::snprintf(seconds, sizeof seconds, "%g", grace);
      throw sdk::EngineUnresponsive(
          "the engine did not stop container " + shortId() + " within " + seconds +
          " s of the kill; dray let go of it and keeps trying to remove it in the background");
    }
    if (failure) std::rethrow_exception(failure);
  }
  if (stop.stop_requested()) throw sdk::EngineError("canceled");
  // Only a failed step is asked about memory: a kill for memory never exits 0.
  const bool oom_killed = exit_code != 0 && runtime_.oomKilled(id_, calls_);
  DockerContainerFiles files(runtime_.client_, id_);
  hook.afterExit(exit_code, files);
  return {exit_code, oom_killed};
}

int DockerPreparedContainer::startStreamAndWait(sdk::RunIo& io) {
  runtime_.start(id_, calls_);
  runtime_.logger_.debug("container " + shortId() + " started");
  try {
    CallInterrupt::Armed armed(&calls_, stream_->socket.impl()->sockfd());
    pumpStreams(*stream_, io);
  } catch (const Poco::Exception& e) {
    throw sdk::EngineError("lost the stream of container " + shortId() + ": " + e.displayText());
  }
  int exit_code = runtime_.wait(id_, calls_);
  stream_.reset();  // the output has ended: let go of the attach connection now
  runtime_.logger_.debug("container " + shortId() + " exited with " + std::to_string(exit_code));
  return exit_code;
}

}  // namespace dray::plugins::runtime::docker

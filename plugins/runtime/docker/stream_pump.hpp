#pragma once

#include "dray/sdk/runtime.hpp"
#include "plugins/runtime/docker/docker_client.hpp"

namespace dray::plugins::runtime::docker {

/// Moves data through an attached container until its output ends: a writer thread
/// streams `io.stdin_source` in and half-closes, while the calling thread demultiplexes
/// frames into `io.stdout_sink` / `io.stderr_sink`. On output end or any error the socket
/// is shut down both ways first, so a writer blocked on a container that stopped reading
/// wakes up; then the writer is joined.
/// Throws whatever a sink or the stdin source threw; a broken stdin pipe is not an error
/// (a step need not read its input).
void pumpStreams(AttachedStream& stream, sdk::RunIo& io);

}  // namespace dray::plugins::runtime::docker

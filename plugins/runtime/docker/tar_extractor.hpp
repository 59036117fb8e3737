#pragma once

#include <istream>

#include "dray/sdk/stream.hpp"

namespace dray::plugins::runtime::docker {

/// Streams the first regular file of a tar archive (as GET /containers/{id}/archive
/// returns it) into `sink`, 64 KiB at a time. Skips PAX/GNU metadata entries and others.
/// @return false when the archive holds no regular file (e.g. a directory or a symlink).
/// Throws sdk::EngineError on a truncated or malformed archive.
bool extractFirstRegularFile(std::istream& tar, sdk::ByteSink& sink);

}  // namespace dray::plugins::runtime::docker

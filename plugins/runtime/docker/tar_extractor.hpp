#pragma once

#include <istream>
#include <string>
#include <string_view>

#include "dray/sdk/stream.hpp"

namespace dray::plugins::runtime::docker {

/// What the top entry of an archive is: GET /containers/{id}/archive puts the path that was
/// asked for first (a directory's contents follow it).
enum class TarEntryKind { kNone, kRegular, kHardLink, kSymlink, kCharDevice, kBlockDevice, kDirectory, kFifo, kOther };

struct TarTopEntry {
  TarEntryKind kind = TarEntryKind::kNone;  ///< kNone: the archive holds no entry
  std::string link_target;                  ///< for kSymlink and kHardLink, as stored
};

/// Reads the archive's top entry, skipping PAX/GNU metadata entries (but keeping a long
/// link name they carry). Only a regular file's bytes are streamed into `sink`, 64 KiB at a
/// time; anything else is described and nothing is written. Never looks past the top entry:
/// a directory's first file is not the directory. Throws sdk::EngineError on a truncated or
/// malformed archive.
TarTopEntry readTopEntry(std::istream& tar, sdk::ByteSink& sink);

/// "a directory", "a FIFO", … for messages users read.
std::string_view describe(TarEntryKind kind);

}  // namespace dray::plugins::runtime::docker

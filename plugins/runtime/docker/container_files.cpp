#include "plugins/runtime/docker/container_files.hpp"

#include <Poco/URI.h>

#include "dray/sdk/errors.hpp"
#include "plugins/runtime/docker/tar_extractor.hpp"

namespace dray::plugins::runtime::docker {
namespace {

// Symbolic links followed from the output path before giving up (a loop, most likely).
constexpr int kMaxLinks = 8;

// Mounted while the container runs (devices, kernel files), so never part of the exited
// container's files that the archive endpoint reads: /dev/null is simply absent there.
std::string runtimeMountOf(const std::string& path) {
  for (const char* mount : {"/dev", "/proc", "/sys"}) {
    if (path.starts_with(std::string(mount) + "/")) return mount;
  }
  return "";
}

// A link target as seen from the link's directory. The engine cleans ".." segments and
// resolves inside the container's root, so a target cannot reach the host.
std::string linkTarget(const std::string& link, const std::string& target) {
  if (target.starts_with('/')) return target;
  return link.substr(0, link.rfind('/') + 1) + target;
}

}  // namespace

// A symlink to a regular file is followed (like `docker cp -L`): images often point a stable
// name at a versioned file. Whatever else the path, or the link's target, is fails the step
// with a message naming it, instead of passing on a directory's first file as before.
bool DockerContainerFiles::copyFileOut(const std::string& path, sdk::ByteSink& sink) {
  std::string current = path;
  for (int links = 0; links <= kMaxLinks; ++links) {
    std::optional<TarTopEntry> entry = fetchTopEntry(current, sink);
    const std::string what =
        current == path ? "output " + path : "output " + path + " is a symbolic link to " + current + ", which";
    if (!entry) {
      if (current != path) throw sdk::PluginError(what + " does not exist in the container");
      if (std::string mount = runtimeMountOf(path); !mount.empty()) {
        throw sdk::PluginError(what + " is under " + mount +
                               ", which holds devices and kernel files mounted while the "
                               "container runs; they cannot be copied out of it");
      }
      return false;
    }
    if (entry->kind == TarEntryKind::kRegular) return true;
    if (entry->kind != TarEntryKind::kSymlink) {
      throw sdk::PluginError(what + " is " + std::string(describe(entry->kind)) + ", not a regular file");
    }
    current = linkTarget(current, entry->link_target);
  }
  throw sdk::PluginError("output " + path + " is a chain of more than " + std::to_string(kMaxLinks) +
                         " symbolic links (a loop?)");
}

std::optional<TarTopEntry> DockerContainerFiles::fetchTopEntry(const std::string& path, sdk::ByteSink& sink) {
  std::string encoded;
  Poco::URI::encode(path, "!#$&'()*+,:;=?@[]\"{}%", encoded);
  TarTopEntry entry;
  DockerResponse response = client_.streamed(
      "GET", "/containers/" + container_id_ + "/archive?path=" + encoded,
      [&](std::istream& tar) { entry = readTopEntry(tar, sink); }, timeout_);
  if (response.status == 404) return std::nullopt;
  if (response.status / 100 != 2) {
    throw sdk::EngineError("cannot copy " + path + " out of container " + container_id_.substr(0, 12) + ": " +
                           engineMessage(response.body));
  }
  return entry;
}

}  // namespace dray::plugins::runtime::docker

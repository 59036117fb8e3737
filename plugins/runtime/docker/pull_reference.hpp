#pragma once

#include <string>

namespace dray::plugins::runtime::docker {

/// An image name split the way the pull endpoint wants it.
struct ImageReference {
  std::string repository;  ///< "registry:5000/team/app"
  std::string tag;         ///< "latest" when none was given; empty with a digest
  std::string digest;      ///< "sha256:…" for name@digest
};

/// "app" -> app:latest; "host:5000/app" -> tag latest (the colon is a port);
/// "app:1.2" -> tag 1.2; "app@sha256:ab" -> digest.
inline ImageReference parseImageReference(const std::string& image) {
  ImageReference ref;
  std::string rest = image;
  if (auto at = rest.find('@'); at != std::string::npos) {
    ref.digest = rest.substr(at + 1);
    rest.resize(at);
  }
  auto slash = rest.rfind('/');
  auto colon = rest.rfind(':');
  if (colon != std::string::npos && (slash == std::string::npos || colon > slash)) {
    ref.tag = rest.substr(colon + 1);
    rest.resize(colon);
  }
  ref.repository = rest;
  if (ref.tag.empty() && ref.digest.empty()) ref.tag = "latest";
  return ref;
}

}  // namespace dray::plugins::runtime::docker

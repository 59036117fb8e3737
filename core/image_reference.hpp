#pragma once

#include <stdexcept>
#include <string>
#include <string_view>

namespace dray::core {

/// Docker's default registry and the legacy name it also answers to.
inline constexpr std::string_view kDefaultRegistry = "docker.io";
inline constexpr std::string_view kLegacyDefaultRegistry = "index.docker.io";

/// Limits of Docker's reference grammar (distribution/reference).
inline constexpr std::size_t kMaxImageNameLength = 255;
inline constexpr std::size_t kMaxImageTagLength = 128;

/// A step's `source` is not a valid image reference; what() says why, for a person.
class ImageReferenceError : public std::invalid_argument {
 public:
  using std::invalid_argument::invalid_argument;
};

/// An image reference split and normalised the way docker does: the registry is always
/// set (`docker.io` by default, `index.docker.io` folded into it) and single-component
/// Docker Hub paths get `library/`, so every spelling of one image has one form.
struct ImageReference {
  std::string registry;  ///< "docker.io", "localhost:5000", "ghcr.io"
  std::string path;      ///< "library/busybox", "team/app"
  std::string tag;       ///< "latest" when neither tag nor digest was given; patterns: empty = any
  std::string digest;    ///< "sha256:<64 hex>" or empty

  /// registry/path, e.g. "docker.io/library/busybox" (a pattern starting with `**` has no
  /// registry of its own: then just the path).
  std::string name() const { return registry.empty() ? path : registry + "/" + path; }

  /// The fully qualified reference: name, tag, digest.
  /// `busybox` → `docker.io/library/busybox:latest`; a digest-only reference has no tag.
  std::string normalized() const;
};

/// How strictly parseImageReference reads its input.
enum class ReferenceSyntax {
  kReference,  ///< a concrete image
  kPattern,    ///< an allow-list pattern: '*' may stand for name and tag characters
};

/// Parses `[registry[:port]/]path[:tag][@sha256:<hex>]` with Docker's grammar, except that
/// only sha256 digests and lower-case registry hosts are accepted (one spelling per image).
/// Throws ImageReferenceError with the reason ("tag longer than 128 characters", …).
ImageReference parseImageReference(std::string_view text, ReferenceSyntax syntax = ReferenceSyntax::kReference);

/// parseImageReference(text).normalized().
std::string normalizeImageReference(std::string_view text);

}  // namespace dray::core

#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "core/image_reference.hpp"

namespace dray::core {

/// Which images steps may run (DRAY_ALLOWED_IMAGES). Each pattern is a glob over the
/// normalised reference: `*` matches within one path component, `**` across components.
/// Patterns are normalised like references (`dray-test/*` means `docker.io/dray-test/*`,
/// `busybox` means `docker.io/library/busybox`), so no spelling of an image slips past
/// one; a pattern starting with `**` spans registries. Without a tag or digest a pattern
/// matches every tag and digest of its repositories; `app:1.*` also checks the tag and
/// `app@sha256:…` the digest. No pattern at all allows every image. Immutable, thread-safe.
class ImagePolicy {
 public:
  /// Allows every image.
  ImagePolicy() = default;

  /// Throws ImageReferenceError ("pattern 'X': reason") for a malformed pattern.
  explicit ImagePolicy(const std::vector<std::string>& patterns);

  /// Splits a comma-separated setting (blanks around patterns ignored, empty = allow all).
  static ImagePolicy fromSetting(std::string_view setting);

  /// The comma-separated setting as a list of trimmed, non-empty patterns.
  static std::vector<std::string> splitSetting(std::string_view setting);

  bool allowsAll() const { return patterns_.empty(); }

  /// True when `image` (a parsed, normalised reference) matches some pattern.
  bool allows(const ImageReference& image) const;

  /// The patterns in normalised form, for messages.
  std::string describe() const;

 private:
  struct Pattern {
    std::string name;    // glob over registry/path
    std::string tag;     // glob; empty = any
    std::string digest;  // exact; empty = any
  };
  std::vector<Pattern> patterns_;
};

/// Matches `text` against `glob`: '*' is any run of characters without '/', '**' any run
/// at all; everything else is literal. O(|glob| × |text|) time, no recursion.
bool globMatch(std::string_view glob, std::string_view text);

}  // namespace dray::core

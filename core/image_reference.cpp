#include "core/image_reference.hpp"

#include <algorithm>
#include <cstdio>

namespace dray::core {
namespace {

[[noreturn]] void fail(const std::string& why) { throw ImageReferenceError(why); }

bool isLower(char c) { return c >= 'a' && c <= 'z'; }
bool isUpper(char c) { return c >= 'A' && c <= 'Z'; }
bool isDigit(char c) { return c >= '0' && c <= '9'; }
bool isWord(char c) { return isLower(c) || isUpper(c) || isDigit(c) || c == '_'; }
bool isLowerHex(char c) { return isDigit(c) || (c >= 'a' && c <= 'f'); }
bool isSeparator(char c) { return c == '.' || c == '_' || c == '-'; }

// Built piece by piece: GCC 12's -Wrestrict misreads "'" + std::string(...) in Release builds.
std::string quote(std::string_view text) {
  std::string quoted(1, '\'');
  quoted.append(text).push_back('\'');
  return quoted;
}

// Control characters, spaces and non-ASCII bytes are never part of an image name; naming
// them first gives a clearer reason than "invalid character" further down.
void checkCharacters(std::string_view text) {
  for (std::size_t i = 0; i < text.size(); ++i) {
    const auto byte = static_cast<unsigned char>(text[i]);
    if (byte < 0x20 || byte == 0x7f) {
      char hex[8];
      std::snprintf(hex, sizeof hex, "0x%02x", byte);
      fail(std::string("control character ") + hex + " at position " + std::to_string(i));
    }
    if (byte == ' ') fail("space at position " + std::to_string(i));
    if (byte >= 0x80) fail("non-ASCII byte at position " + std::to_string(i));
  }
}

void checkDigest(std::string_view digest) {
  if (digest.empty()) fail("'@' without a digest");
  const auto colon = digest.find(':');
  if (colon == std::string_view::npos) fail("digest must look like sha256:<64 hex digits>");
  const std::string_view algorithm = digest.substr(0, colon);
  if (algorithm != "sha256") fail("unsupported digest algorithm " + quote(algorithm) + " (only sha256)");
  const std::string_view hex = digest.substr(colon + 1);
  if (hex.size() != 64) fail("sha256 digest must have 64 hex digits, not " + std::to_string(hex.size()));
  if (!std::all_of(hex.begin(), hex.end(), isLowerHex)) fail("sha256 digest must be lower-case hex digits");
}

void checkTag(std::string_view tag, bool glob) {
  if (tag.empty()) fail("':' without a tag");
  if (tag.size() > kMaxImageTagLength) fail("tag longer than 128 characters");
  auto word = [glob](char c) { return isWord(c) || (glob && c == '*'); };
  if (!word(tag.front())) fail("tag must start with a letter, digit or '_'");
  for (char c : tag) {
    if (!word(c) && c != '.' && c != '-') fail("invalid character " + quote({&c, 1}) + " in tag");
  }
}

void checkPort(std::string_view port, std::string_view registry, bool glob) {
  const bool ok = !port.empty() &&
                  std::all_of(port.begin(), port.end(), [glob](char c) { return isDigit(c) || (glob && c == '*'); });
  if (!ok) fail("registry " + quote(registry) + " has a port that is not a number");
}

// host[:port]: a lower-case DNS name or a bracketed IPv6 address. Upper case is refused
// (docker accepts it) so that one registry has one spelling for the allow-list.
void checkRegistry(std::string_view registry, bool glob) {
  std::string_view host = registry;
  if (host.front() == '[') {
    const auto close = host.find(']');
    const std::string_view address = host.substr(1, close == std::string_view::npos ? 0 : close - 1);
    const bool ok = !address.empty() &&
                    std::all_of(address.begin(), address.end(), [](char c) { return isLowerHex(c) || c == ':'; });
    if (close == std::string_view::npos || !ok) fail("registry " + quote(registry) + " has an invalid IPv6 address");
    const std::string_view rest = host.substr(close + 1);
    if (rest.empty()) return;
    if (rest.front() != ':') fail("registry " + quote(registry) + " has text after its IPv6 address");
    return checkPort(rest.substr(1), registry, glob);
  }
  if (const auto colon = host.find(':'); colon != std::string_view::npos) {
    checkPort(host.substr(colon + 1), registry, glob);
    host = host.substr(0, colon);
  }
  if (std::any_of(host.begin(), host.end(), isUpper)) fail("upper-case letter in registry host " + quote(host));
  std::size_t begin = 0;
  while (begin <= host.size()) {
    const auto dot = std::min(host.find('.', begin), host.size());
    const std::string_view label = host.substr(begin, dot - begin);
    auto ok = [glob](char c) { return isLower(c) || isDigit(c) || c == '-' || (glob && c == '*'); };
    if (label.empty() || label.front() == '-' || label.back() == '-' || !std::all_of(label.begin(), label.end(), ok)) {
      fail("invalid registry host " + quote(host));
    }
    begin = dot + 1;
  }
}

// Lower-case letters and digits, separated by '.', '_', '__' or one or more '-'.
void checkPathComponent(std::string_view component, bool glob) {
  if (component.empty()) fail("empty path component (a leading, trailing or doubled '/')");
  if (std::any_of(component.begin(), component.end(), isUpper)) fail("upper-case letter in repository path");
  auto alnum = [glob](char c) { return isLower(c) || isDigit(c) || (glob && c == '*'); };
  if (!alnum(component.front())) {
    if (isSeparator(component.front()))
      fail("path component " + quote(component) + " must start with a lower-case letter or digit");
    fail("invalid character " + quote(component.substr(0, 1)) + " in repository path");
  }
  std::size_t i = 0;
  while (i < component.size()) {
    const char c = component[i];
    if (alnum(c)) {
      ++i;
      continue;
    }
    if (!isSeparator(c)) fail("invalid character " + quote({&c, 1}) + " in repository path");
    std::size_t end = i;
    while (end < component.size() && isSeparator(component[end])) ++end;
    const std::string_view separator = component.substr(i, end - i);
    const bool dashes = std::all_of(separator.begin(), separator.end(), [](char s) { return s == '-'; });
    if (!(separator == "." || separator == "_" || separator == "__" || dashes)) {
      fail("invalid separator " + quote(separator) + " in path component " + quote(component));
    }
    if (end == component.size())
      fail("path component " + quote(component) + " must end with a lower-case letter or digit");
    i = end;
  }
}

void checkPath(std::string_view path, bool glob) {
  std::size_t begin = 0;
  while (begin <= path.size()) {
    const auto slash = std::min(path.find('/', begin), path.size());
    checkPathComponent(path.substr(begin, slash - begin), glob);
    begin = slash + 1;
  }
}

}  // namespace

std::string ImageReference::normalized() const {
  std::string text = name();
  if (!tag.empty()) text += ":" + tag;
  if (!digest.empty()) text += "@" + digest;
  return text;
}

ImageReference parseImageReference(std::string_view text, ReferenceSyntax syntax) {
  const bool glob = syntax == ReferenceSyntax::kPattern;
  if (text.empty()) fail("empty image reference");
  checkCharacters(text);
  ImageReference ref;
  std::string_view rest = text;
  if (const auto at = rest.find('@'); at != std::string_view::npos) {
    ref.digest = rest.substr(at + 1);
    checkDigest(ref.digest);
    rest = rest.substr(0, at);
  }
  // A colon after the last '/' starts the tag; one before it is a registry port.
  const auto last_slash = rest.rfind('/');
  const auto colon = rest.rfind(':');
  if (colon != std::string_view::npos && (last_slash == std::string_view::npos || colon > last_slash)) {
    ref.tag = rest.substr(colon + 1);
    checkTag(ref.tag, glob);
    rest = rest.substr(0, colon);
  }
  if (rest.empty()) fail("empty repository name");
  if (rest.size() > kMaxImageNameLength) fail("repository name longer than 255 characters");

  // Docker's rule: the first component names a registry when it has '.' or ':' or is localhost.
  const auto first_slash = rest.find('/');
  const std::string_view first = rest.substr(0, first_slash);
  const bool has_registry = first_slash != std::string_view::npos &&
                            (first.find_first_of(".:[") != std::string_view::npos || first == "localhost");
  const std::string_view path = has_registry ? rest.substr(first_slash + 1) : rest;
  if (has_registry) checkRegistry(first, glob);
  checkPath(path, glob);
  if (!glob && !has_registry && path.size() == 64 && std::all_of(path.begin(), path.end(), isLowerHex)) {
    fail("a 64-digit hex string is an image id, not a repository name");
  }

  if (glob && !has_registry && path.substr(0, 2) == "**") {
    ref.path = path;  // spans registries: "**/busybox" must also match ghcr.io/x/busybox
    return ref;
  }
  ref.registry = has_registry ? first : kDefaultRegistry;
  if (ref.registry == kLegacyDefaultRegistry) ref.registry = kDefaultRegistry;
  ref.path = path;
  if (ref.registry == kDefaultRegistry && path.find('/') == std::string_view::npos) ref.path = "library/" + ref.path;
  if (!glob && ref.tag.empty() && ref.digest.empty()) ref.tag = "latest";
  return ref;
}

std::string normalizeImageReference(std::string_view text) { return parseImageReference(text).normalized(); }

}  // namespace dray::core

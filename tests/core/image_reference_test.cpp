#include "core/image_reference.hpp"

#include <catch2/catch.hpp>

using dray::core::ImageReferenceError;
using dray::core::normalizeImageReference;
using dray::core::parseImageReference;

namespace {

const std::string kHex(64, 'a');

std::string reasonFor(const std::string& reference) {
  try {
    parseImageReference(reference);
  } catch (const ImageReferenceError& e) {
    return e.what();
  }
  return "";
}

}  // namespace

TEST_CASE("good references are normalised the way docker does", "[core][image]") {
  CHECK(normalizeImageReference("busybox") == "docker.io/library/busybox:latest");
  CHECK(normalizeImageReference("busybox:1.36") == "docker.io/library/busybox:1.36");
  CHECK(normalizeImageReference("library/busybox") == "docker.io/library/busybox:latest");
  CHECK(normalizeImageReference("docker.io/busybox") == "docker.io/library/busybox:latest");
  CHECK(normalizeImageReference("docker.io/library/busybox:latest") == "docker.io/library/busybox:latest");
  CHECK(normalizeImageReference("index.docker.io/library/busybox") == "docker.io/library/busybox:latest");
  CHECK(normalizeImageReference("team/app") == "docker.io/team/app:latest");
  CHECK(normalizeImageReference("dray-test/script") == "docker.io/dray-test/script:latest");
  CHECK(normalizeImageReference("localhost:5000/x") == "localhost:5000/x:latest");
  CHECK(normalizeImageReference("localhost/x:1") == "localhost/x:1");
  CHECK(normalizeImageReference("ghcr.io/org/sub/app:v1.2_rc-3") == "ghcr.io/org/sub/app:v1.2_rc-3");
  CHECK(normalizeImageReference("[::1]:5000/app") == "[::1]:5000/app:latest");
  CHECK(normalizeImageReference("team/a__b.c---d/e_f") == "docker.io/team/a__b.c---d/e_f:latest");
  CHECK(normalizeImageReference("a.b/c") == "a.b/c:latest");  // a dot makes the first component a registry
  CHECK(normalizeImageReference("busybox@sha256:" + kHex) == "docker.io/library/busybox@sha256:" + kHex);
  CHECK(normalizeImageReference("busybox:1@sha256:" + kHex) == "docker.io/library/busybox:1@sha256:" + kHex);
  CHECK(normalizeImageReference("app:" + std::string(128, 't')) == "docker.io/library/app:" + std::string(128, 't'));
}

TEST_CASE("a parsed reference keeps registry, path, tag and digest apart", "[core][image]") {
  auto ref = parseImageReference("registry.example.com:5000/team/app:2@sha256:" + kHex);
  CHECK(ref.registry == "registry.example.com:5000");
  CHECK(ref.path == "team/app");
  CHECK(ref.tag == "2");
  CHECK(ref.digest == "sha256:" + kHex);
  CHECK(ref.name() == "registry.example.com:5000/team/app");
  auto digest_only = parseImageReference("app@sha256:" + kHex);
  CHECK(digest_only.tag.empty());  // a digest names the image exactly: no default tag
}

TEST_CASE("bad references are refused with the reason", "[core][image]") {
  using Catch::Contains;
  CHECK_THAT(reasonFor(""), Contains("empty image reference"));
  CHECK_THAT(reasonFor(std::string("busy\0box", 8)), Contains("control character 0x00 at position 4"));
  CHECK_THAT(reasonFor("busybox\n"), Contains("control character 0x0a"));
  CHECK_THAT(reasonFor("busy\x1b[31mbox"), Contains("control character 0x1b"));
  CHECK_THAT(reasonFor("busy box"), Contains("space at position 4"));
  CHECK_THAT(reasonFor("bus\xc3\xbf"), Contains("non-ASCII"));
  CHECK_THAT(reasonFor("BusyBox"), Contains("upper-case letter in repository path"));
  CHECK_THAT(reasonFor("team/App"), Contains("upper-case letter in repository path"));
  CHECK_THAT(reasonFor("Registry.io/app"), Contains("upper-case letter in registry host"));
  CHECK_THAT(reasonFor("team//app"), Contains("empty path component"));
  CHECK_THAT(reasonFor("/busybox"), Contains("empty path component"));
  CHECK_THAT(reasonFor("busybox/"), Contains("empty path component"));
  CHECK_THAT(reasonFor("ghcr.io/"), Contains("empty path component"));
  CHECK_THAT(reasonFor("busybox:" + std::string(129, 't')), Contains("tag longer than 128 characters"));
  CHECK_THAT(reasonFor("busybox:"), Contains("':' without a tag"));
  CHECK_THAT(reasonFor("busybox:.x"), Contains("tag must start with a letter, digit or '_'"));
  CHECK_THAT(reasonFor("busybox:a+b"), Contains("invalid character '+' in tag"));
  CHECK_THAT(reasonFor("busybox@"), Contains("'@' without a digest"));
  CHECK_THAT(reasonFor("busybox@" + kHex), Contains("digest must look like sha256:"));
  CHECK_THAT(reasonFor("busybox@sha256:abc"), Contains("64 hex digits, not 3"));
  CHECK_THAT(reasonFor("busybox@sha256:" + kHex + "a"), Contains("64 hex digits, not 65"));
  CHECK_THAT(reasonFor("busybox@sha256:" + std::string(64, 'g')), Contains("lower-case hex"));
  CHECK_THAT(reasonFor("busybox@sha256:" + std::string(64, 'A')), Contains("lower-case hex"));
  CHECK_THAT(reasonFor("busybox@sha512:" + kHex + kHex), Contains("unsupported digest algorithm 'sha512'"));
  CHECK_THAT(reasonFor("busybox@sha256:" + kHex + "@sha256:" + kHex), Contains("digest"));
  CHECK_THAT(reasonFor("-busybox"), Contains("must start with a lower-case letter or digit"));
  CHECK_THAT(reasonFor("busybox-"), Contains("must end with a lower-case letter or digit"));
  CHECK_THAT(reasonFor("busy..box"), Contains("invalid separator '..'"));
  CHECK_THAT(reasonFor("busy___box"), Contains("invalid separator '___'"));
  CHECK_THAT(reasonFor("busy.-box"), Contains("invalid separator '.-'"));
  CHECK_THAT(reasonFor("team/../app"), Contains("must start with a lower-case letter or digit"));
  CHECK_THAT(reasonFor("busy$box"), Contains("invalid character '$' in repository path"));
  CHECK_THAT(reasonFor(std::string(256, 'a')), Contains("longer than 255 characters"));
  CHECK_THAT(reasonFor("a/" + std::string(254, 'b')), Contains("longer than 255 characters"));
  CHECK_THAT(reasonFor(":latest"), Contains("empty repository name"));
  CHECK_THAT(reasonFor("-x.io/app"), Contains("invalid registry host"));
  CHECK_THAT(reasonFor("x..io/app"), Contains("invalid registry host"));
  CHECK_THAT(reasonFor("localhost:port/app"), Contains("port that is not a number"));
  CHECK_THAT(reasonFor("[zz]:5000/app"), Contains("invalid IPv6 address"));
  CHECK_THAT(reasonFor(kHex), Contains("image id"));
  CHECK_THAT(reasonFor("*"), Contains("invalid character '*'"));  // globs are for patterns only
}

TEST_CASE("the longest valid name and tag are accepted", "[core][image]") {
  CHECK(reasonFor(std::string(255, 'a')).empty());
  CHECK(reasonFor("a/" + std::string(253, 'b') + ":" + std::string(128, 'c')).empty());
}

#include "core/image_policy.hpp"

#include <catch2/catch.hpp>

using dray::core::globMatch;
using dray::core::ImagePolicy;
using dray::core::ImageReferenceError;
using dray::core::parseImageReference;

namespace {

const std::string kHex(64, 'a');
const std::string kOtherHex(64, 'b');

bool allows(const std::string& setting, const std::string& image) {
  return ImagePolicy::fromSetting(setting).allows(parseImageReference(image));
}

}  // namespace

TEST_CASE("glob: '*' stays within a component, '**' crosses them", "[core][image][policy]") {
  CHECK(globMatch("a/*", "a/b"));
  CHECK_FALSE(globMatch("a/*", "a/b/c"));
  CHECK(globMatch("a/**", "a/b/c"));
  CHECK(globMatch("a/*/c", "a/xyz/c"));
  CHECK_FALSE(globMatch("a/*/c", "a/x/y/c"));
  CHECK(globMatch("a/**/c", "a/x/y/c"));
  CHECK(globMatch("a*b*c", "aXbYc"));
  CHECK_FALSE(globMatch("a*b", "a/b"));
  CHECK(globMatch("**", "anything/at/all"));
  CHECK(globMatch("x", "x"));
  CHECK_FALSE(globMatch("x", "xy"));
  CHECK_FALSE(globMatch("x*", "y"));
  CHECK(globMatch("*", ""));
  // Many stars on a long non-match stay fast (no backtracking blow-up).
  CHECK_FALSE(globMatch(std::string(50, '*') + "x" + "*a*a*a*a*a*a*a*a*b", std::string(250, 'a')));
}

TEST_CASE("no patterns allow every image", "[core][image][policy]") {
  CHECK(ImagePolicy().allowsAll());
  CHECK(ImagePolicy::fromSetting(" , ").allowsAll());
  CHECK(allows("", "evil/miner"));
}

TEST_CASE("patterns are normalised like references", "[core][image][policy]") {
  const std::string setting = "dray-test/*,busybox";
  CHECK(allows(setting, "dray-test/script"));
  CHECK(allows(setting, "docker.io/dray-test/script:v2"));
  CHECK(allows(setting, "index.docker.io/dray-test/script"));
  CHECK_FALSE(allows(setting, "dray-test/sub/script"));  // '*' is one component
  CHECK_FALSE(allows(setting, "ghcr.io/dray-test/script"));
  CHECK_FALSE(allows(setting, "dray-tests/script"));
  CHECK_FALSE(allows(setting, "alpine"));
  CHECK_FALSE(allows(setting, "localhost:5000/dray-test/script"));
}

TEST_CASE("every spelling of an image meets the same pattern", "[core][image][policy]") {
  const std::vector<std::string> spellings = {"busybox",
                                              "busybox:latest",
                                              "library/busybox",
                                              "docker.io/library/busybox:latest",
                                              "docker.io/busybox",
                                              "index.docker.io/library/busybox",
                                              "busybox@sha256:" + kHex};
  for (const std::string pattern : {"busybox", "library/busybox", "docker.io/library/busybox",
                                    "index.docker.io/library/busybox", "docker.io/library/*"}) {
    for (const auto& image : spellings) {
      INFO(pattern << " vs " << image);
      CHECK(allows(pattern, image));
    }
  }
  // And a pattern for busybox is not a pattern for lookalikes.
  for (const std::string other : {"busybox2", "evil/busybox", "ghcr.io/library/busybox", "localhost/busybox",
                                  "docker.io.evil.com/library/busybox"}) {
    INFO(other);
    CHECK_FALSE(allows("busybox", other));
  }
}

TEST_CASE("'**' spans components and, leading, registries", "[core][image][policy]") {
  CHECK(allows("ghcr.io/team/**", "ghcr.io/team/a/b/c:1"));
  CHECK_FALSE(allows("ghcr.io/team/**", "ghcr.io/other/a"));
  CHECK_FALSE(allows("ghcr.io/team/*", "ghcr.io/team/a/b"));
  CHECK(allows("**", "ghcr.io/x/y"));
  CHECK(allows("**", "busybox"));
  CHECK(allows("**/busybox", "ghcr.io/x/busybox"));
  CHECK(allows("**/busybox", "busybox"));
  CHECK_FALSE(allows("**/busybox", "ghcr.io/x/busybox2"));
  CHECK(allows("*.example.com/**", "registry.example.com/a/b"));
  CHECK_FALSE(allows("*.example.com/**", "example.com.evil.io/a/b"));
  CHECK(allows("localhost:*/app", "localhost:5000/app"));
}

TEST_CASE("a tag or digest in a pattern must match too", "[core][image][policy]") {
  CHECK(allows("x/y:1.*", "x/y:1.2"));
  CHECK(allows("x/y:1.*", "docker.io/x/y:1.2.3"));
  CHECK_FALSE(allows("x/y:1.*", "x/y:2.0"));
  CHECK_FALSE(allows("x/y:1.*", "x/y"));  // means x/y:latest
  CHECK(allows("x/y:latest", "x/y"));
  CHECK_FALSE(allows("x/y:1.*", "x/y@sha256:" + kHex));  // no tag to check
  CHECK(allows("x/y@sha256:" + kHex, "x/y@sha256:" + kHex));
  CHECK(allows("x/y@sha256:" + kHex, "x/y:any@sha256:" + kHex));
  CHECK_FALSE(allows("x/y@sha256:" + kHex, "x/y@sha256:" + kOtherHex));
  CHECK_FALSE(allows("x/y@sha256:" + kHex, "x/y:1"));
  CHECK(allows("x/y", "x/y@sha256:" + kOtherHex));  // no tag or digest: any of them
}

TEST_CASE("malformed patterns are refused with the pattern named", "[core][image][policy]") {
  for (const std::string bad : {"Busybox", "team//*", "x:", "x@sha512:ab", "bad pattern", "x/y/"}) {
    INFO(bad);
    try {
      ImagePolicy::fromSetting("ok/*," + bad);
      FAIL("accepted");
    } catch (const ImageReferenceError& e) {
      CHECK_THAT(e.what(), Catch::Contains("pattern '" + bad + "'"));
    }
  }
  CHECK(ImagePolicy::fromSetting("dray-test/*, ghcr.io/team/**:v*").describe() ==
        "docker.io/dray-test/*, ghcr.io/team/**:v*");
}

#include "tar_extractor.hpp"

#include <filesystem>
#include <fstream>
#include <sstream>

#include <catch2/catch.hpp>

#include "dray/sdk/errors.hpp"
#include "string_streams.hpp"
#include "test_support.hpp"

using dray::plugins::runtime::docker::extractFirstRegularFile;
namespace fs = std::filesystem;

namespace {

// Builds an archive with the system tar, as the engine would send it.
std::string makeTar(const std::string& setup, const std::string& members, const std::string& format = "gnu") {
  dray::test::TempDir dir;
  int status = 0;
  dray::test::shell("cd " + dir.path() + " && " + setup + " && tar --format=" + format + " -cf archive.tar " + members,
                    &status);
  REQUIRE(status == 0);
  std::ifstream in(dir.path() + "/archive.tar", std::ios::binary);
  std::stringstream bytes;
  bytes << in.rdbuf();
  return bytes.str();
}

}  // namespace

TEST_CASE("the file's bytes come out exactly", "[plugins][docker][tar]") {
  std::string tar = makeTar("printf 'line 1\\nline 2\\n' > out.txt", "out.txt");
  std::istringstream in(tar);
  dray::test::StringSink sink;
  CHECK(extractFirstRegularFile(in, sink));
  CHECK(sink.data == "line 1\nline 2\n");
}

TEST_CASE("long names (GNU and PAX headers) are skipped to the data", "[plugins][docker][tar]") {
  std::string name(150, 'n');
  for (const std::string format : {"gnu", "pax"}) {
    INFO(format);
    std::string tar = makeTar("head -c 100000 /dev/urandom > data && cp data " + name, name, format);
    std::istringstream in(tar);
    dray::test::StringSink sink;
    CHECK(extractFirstRegularFile(in, sink));
    CHECK(sink.data.size() == 100000);
  }
}

TEST_CASE("a directory or symlink is not a regular file but an empty file is", "[plugins][docker][tar]") {
  {
    std::istringstream in(makeTar("mkdir d", "d"));
    dray::test::StringSink sink;
    CHECK_FALSE(extractFirstRegularFile(in, sink));
  }
  {
    std::istringstream in(makeTar("ln -s /etc/hostname link", "link"));
    dray::test::StringSink sink;
    CHECK_FALSE(extractFirstRegularFile(in, sink));
  }
  {
    std::istringstream in(makeTar("touch empty", "empty"));
    dray::test::StringSink sink;
    CHECK(extractFirstRegularFile(in, sink));
    CHECK(sink.data.empty());
  }
}

TEST_CASE("a truncated archive is an engine error", "[plugins][docker][tar]") {
  std::string tar = makeTar("head -c 5000 /dev/zero > f", "f");
  std::istringstream in(tar.substr(0, 1500));
  dray::test::StringSink sink;
  CHECK_THROWS_AS(extractFirstRegularFile(in, sink), dray::sdk::EngineError);
}

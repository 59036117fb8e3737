#include "plugins/runtime/docker/tar_extractor.hpp"

#include <filesystem>
#include <fstream>
#include <sstream>

#include <catch2/catch.hpp>

#include "dray/sdk/errors.hpp"
#include "tests/fakes/string_streams.hpp"
#include "tests/support/test_support.hpp"

using dray::plugins::runtime::docker::readTopEntry;
using dray::plugins::runtime::docker::TarEntryKind;
using dray::plugins::runtime::docker::TarTopEntry;
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

// The top entry of an archive of `members` made by `setup`; `data` gets what was streamed.
TarTopEntry topEntry(const std::string& setup, const std::string& members, std::string* data = nullptr,
                     const std::string& format = "gnu") {
  std::istringstream in(makeTar(setup, members, format));
  dray::test::StringSink sink;
  TarTopEntry entry = readTopEntry(in, sink);
  if (data) *data = sink.data;
  return entry;
}

}  // namespace

TEST_CASE("the file's bytes come out exactly", "[plugins][docker][tar]") {
  std::string data;
  CHECK(topEntry("printf 'line 1\\nline 2\\n' > out.txt", "out.txt", &data).kind == TarEntryKind::kRegular);
  CHECK(data == "line 1\nline 2\n");
}

TEST_CASE("long names (GNU and PAX headers) are skipped to the data", "[plugins][docker][tar]") {
  std::string name(150, 'n');
  for (const std::string format : {"gnu", "pax"}) {
    INFO(format);
    std::string data;
    CHECK(topEntry("head -c 100000 /dev/urandom > data && cp data " + name, name, &data, format).kind ==
          TarEntryKind::kRegular);
    CHECK(data.size() == 100000);
  }
}

TEST_CASE("only the top entry counts: a directory is not its first file", "[plugins][docker][tar]") {
  std::string data;
  CHECK(topEntry("mkdir d && echo inside > d/file", "d", &data).kind == TarEntryKind::kDirectory);
  CHECK(data.empty());
  CHECK(topEntry("touch empty", "empty", &data).kind == TarEntryKind::kRegular);
  CHECK(data.empty());
}

TEST_CASE("FIFOs and devices are named by their kind, and nothing is streamed", "[plugins][docker][tar]") {
  std::string data;
  CHECK(topEntry("mkfifo pipe", "pipe", &data).kind == TarEntryKind::kFifo);
  CHECK(data.empty());
  // Making device nodes needs CAP_MKNOD: the test suite runs as root in its container.
  CHECK(topEntry("mknod null c 1 3", "null").kind == TarEntryKind::kCharDevice);
  CHECK(topEntry("mknod loop b 7 0", "loop").kind == TarEntryKind::kBlockDevice);
  CHECK(dray::plugins::runtime::docker::describe(TarEntryKind::kFifo) == "a FIFO (named pipe)");
}

TEST_CASE("a symlink gives its target, also a long one", "[plugins][docker][tar]") {
  TarTopEntry link = topEntry("ln -s ../etc/hostname link", "link");
  CHECK(link.kind == TarEntryKind::kSymlink);
  CHECK(link.link_target == "../etc/hostname");
  const std::string target = "/" + std::string(150, 't');
  for (const std::string format : {"gnu", "pax"}) {
    INFO(format);
    TarTopEntry long_link = topEntry("ln -s " + target + " link", "link", nullptr, format);
    CHECK(long_link.kind == TarEntryKind::kSymlink);
    CHECK(long_link.link_target == target);
  }
}

TEST_CASE("an empty archive has no entry", "[plugins][docker][tar]") {
  std::istringstream in(std::string(1024, '\0'));
  dray::test::StringSink sink;
  CHECK(readTopEntry(in, sink).kind == TarEntryKind::kNone);
}

TEST_CASE("a truncated archive is an engine error", "[plugins][docker][tar]") {
  std::string tar = makeTar("head -c 5000 /dev/zero > f", "f");
  std::istringstream in(tar.substr(0, 1500));
  dray::test::StringSink sink;
  CHECK_THROWS_AS(readTopEntry(in, sink), dray::sdk::EngineError);
}

// Found by fuzz_tar_reader (issue 14): a GNU base-256 size that is negative or does not fit
// in 64 bits lost its high bits and read as a small size (here 0: an empty file, no error).
TEST_CASE("a base-256 size is read whole, and a negative or oversized one is malformed",
          "[plugins][docker][tar][fuzz]") {
  const std::string tar = makeTar("printf 'fourteen bytes' > f", "f");
  auto withSize = [&](std::initializer_list<unsigned char> field) {
    std::string patched = tar;
    std::size_t at = 124;  // the size field of the first header
    for (unsigned char byte : field) patched[at++] = static_cast<char>(byte);
    return patched;
  };
  auto read = [](const std::string& archive, std::string* data = nullptr) {
    std::istringstream in(archive);
    dray::test::StringSink sink;
    TarTopEntry entry = readTopEntry(in, sink);
    if (data) *data = sink.data;
    return entry;
  };
  std::string data;
  CHECK(read(withSize({0x80, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 14}), &data).kind == TarEntryKind::kRegular);
  CHECK(data == "fourteen bytes");
  CHECK_THROWS_AS(read(withSize({0xf2, 0xf2, 0xf2, 0, 0, 0, 0, 0, 0, 0, 0, 0})), dray::sdk::EngineError);  // negative
  CHECK_THROWS_AS(read(withSize({0x80, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 14})), dray::sdk::EngineError);       // 2^72 + 14
  CHECK_THROWS_AS(read(withSize({0x80, 0, 0, 0, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xfe, 0x01})),
                  dray::sdk::EngineError);  // would wrap when rounded up to whole blocks
}

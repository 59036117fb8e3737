#include "plugins/output/file/file_channel.hpp"

#include <catch2/catch.hpp>

#include "tests/fakes/fake_runtime.hpp"

using namespace dray;

TEST_CASE("file channel accepts normalised absolute paths only", "[plugins][file]") {
  plugins::output::file::FileChannel channel;
  for (const std::string ok : {"/out.txt", "/a/b/c.json", "/tmp/x y"}) CHECK(channel.accepts(ok));
  for (const std::string& bad : std::vector<std::string>{"", "/", "out.txt", "./out", "/a/../b", "/a/./b", "/a//b",
                                                         "/dir/", "/..", std::string("/a\0b", 4)}) {
    INFO(bad);
    CHECK_FALSE(channel.accepts(bad));
  }
  CHECK_FALSE(channel.accepts("/" + std::string(5000, 'a')));
}

namespace {

// Runs a file capture for `path` against a container holding `files`.
struct FileStep {
  test::StringSink next;
  test::RecordingLogger log;

  FileStep(const std::string& path, std::map<std::string, std::string> files, const std::string& stdout_text = "") {
    plugins::output::file::FileChannel channel;
    sdk::StepSpec step;
    step.output = path;
    auto capture = channel.open(step, next, log);
    capture->onStdout(stdout_text);
    capture->onStderr("stderr\n");
    test::FakeContainerFiles container(std::move(files));
    capture->afterExit(container);
  }
};

}  // namespace

TEST_CASE("file channel copies the file after exit and ignores the streams", "[plugins][file]") {
  FileStep run("/out.txt", {{"/out.txt", "file data\n"}}, "stdout\n");
  CHECK(run.next.data == "file data\n");
  CHECK(run.log.messages.empty());
}

TEST_CASE("a missing file gives empty output and a log line", "[plugins][file]") {
  FileStep run("/nope.txt", {});
  CHECK(run.next.data.empty());
  REQUIRE(run.log.messages.size() == 1);
  CHECK_THAT(run.log.messages[0], Catch::Contains("/nope.txt does not exist"));
}

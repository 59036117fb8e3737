#include "file_channel.hpp"

#include <catch2/catch.hpp>

#include "fake_runtime.hpp"

using namespace dray;

TEST_CASE("file channel accepts normalised absolute paths only", "[plugins][file]") {
  plugins::output::file::FileChannel channel;
  for (const std::string ok : {"/out.txt", "/a/b/c.json", "/tmp/x y"}) CHECK(channel.accepts(ok));
  for (const std::string& bad : std::vector<std::string>{"", "/", "out.txt", "./out", "/a/../b", "/a/./b", "/a//b", "/dir/", "/..",
                                std::string("/a\0b", 4)}) {
    INFO(bad);
    CHECK_FALSE(channel.accepts(bad));
  }
  CHECK_FALSE(channel.accepts("/" + std::string(5000, 'a')));
}

TEST_CASE("file channel copies the file after exit and ignores the streams", "[plugins][file]") {
  plugins::output::file::FileChannel channel;
  test::StringSink next;
  test::RecordingLogger log;
  sdk::StepSpec step;
  step.output = "/out.txt";
  auto capture = channel.open(step, next, log);
  capture->onStdout("stdout\n");
  capture->onStderr("stderr\n");
  test::FakeContainerFiles files(std::map<std::string, std::string>{{"/out.txt", "file data\n"}});
  capture->afterExit(files);
  CHECK(next.data == "file data\n");
  CHECK(log.messages.empty());
}

TEST_CASE("a missing file gives empty output and a log line", "[plugins][file]") {
  plugins::output::file::FileChannel channel;
  test::StringSink next;
  test::RecordingLogger log;
  sdk::StepSpec step;
  step.output = "/nope.txt";
  auto capture = channel.open(step, next, log);
  test::FakeContainerFiles files(std::map<std::string, std::string>{});
  capture->afterExit(files);
  CHECK(next.data.empty());
  REQUIRE(log.messages.size() == 1);
  CHECK_THAT(log.messages[0], Catch::Contains("/nope.txt does not exist"));
}

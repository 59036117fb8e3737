#include "plugins/output/stdout/stdout_channel.hpp"

#include <catch2/catch.hpp>

#include "plugins/output/stderr/stderr_channel.hpp"
#include "tests/fakes/string_streams.hpp"

using namespace dray;

TEST_CASE("stdout channel accepts only stdout and passes stdout bytes on unchanged", "[plugins][stdout]") {
  plugins::output::stdout::StdoutChannel channel;
  CHECK(channel.accepts("stdout"));
  CHECK_FALSE(channel.accepts("stderr"));
  CHECK_FALSE(channel.accepts("STDOUT"));
  test::StringSink next;
  test::RecordingLogger log;
  auto capture = channel.open(sdk::StepSpec{}, next, log);
  capture->onStdout(std::string("a\0b\n", 4));
  capture->onStderr("not passed on\n");
  capture->onStdout("tail");
  CHECK(next.data == std::string("a\0b\ntail", 8));
}

TEST_CASE("a large stdout streams through chunk by chunk", "[plugins][stdout]") {
  plugins::output::stdout::StdoutChannel channel;
  test::StringSink next;
  test::RecordingLogger log;
  auto capture = channel.open(sdk::StepSpec{}, next, log);
  std::string chunk(64 * 1024, 'z');
  for (int i = 0; i < 64; ++i) capture->onStdout(chunk);
  CHECK(next.writes == 64);  // no buffering inside the capture
  CHECK(next.data.size() == 64u * 64 * 1024);
}

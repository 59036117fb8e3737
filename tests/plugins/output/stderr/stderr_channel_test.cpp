#include "plugins/output/stderr/stderr_channel.hpp"

#include <catch2/catch.hpp>

#include "tests/fakes/string_streams.hpp"

using namespace dray;

TEST_CASE("stderr channel passes only stderr on", "[plugins][stderr]") {
  plugins::output::stderr::StderrChannel channel;
  CHECK(channel.accepts("stderr"));
  CHECK_FALSE(channel.accepts("stdout"));
  test::StringSink next;
  test::RecordingLogger log;
  auto capture = channel.open(sdk::StepSpec{}, next, log);
  capture->onStdout("log noise\n");
  capture->onStderr("data 1\n");
  capture->onStderr("data 2\n");
  CHECK(next.data == "data 1\ndata 2\n");
}

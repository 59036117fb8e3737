#include "job_resolver.hpp"

#include <cstdlib>
#include <fstream>
#include <sstream>

#include <Poco/JSON/Array.h>
#include <Poco/JSON/Object.h>
#include <catch2/catch.hpp>

#include "errors.hpp"
#include "file_channel.hpp"
#include "job_codec.hpp"
#include "stderr_channel.hpp"
#include "stdout_channel.hpp"

namespace {

using namespace dray;

core::ChannelSet builtInChannels() {
  core::ChannelSet channels;
  channels.add("file", std::make_shared<plugins::output::file::FileChannel>());
  channels.add("stderr", std::make_shared<plugins::output::stderr::StderrChannel>());
  channels.add("stdout", std::make_shared<plugins::output::stdout::StdoutChannel>());
  return channels;
}

std::string readFile(const std::string& path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

// The resolution as JSON, to compare with golden files.
std::string describe(const core::ResolvedJob& job, const core::ChannelSet& channels) {
  Poco::JSON::Array steps;
  for (const auto& step : job.steps) {
    Poco::JSON::Object out(Poco::JSON_PRESERVE_KEY_ORDER);
    out.set("index", step.spec.index);
    out.set("image", step.spec.image);
    out.set("refresh", step.spec.refresh);
    Poco::JSON::Array env;
    for (const auto& var : step.spec.env) env.add(var.name + "=" + var.value);
    out.set("env", env);
    out.set("output", step.spec.output);
    out.set("channel", channels.nameOf(step.channel));
    out.set("delimiters", step.begin_delimiter.empty() ? "" : step.begin_delimiter + ".." + step.end_delimiter);
    steps.add(out);
  }
  std::ostringstream text;
  steps.stringify(text, 2);
  return text.str() + "\n";
}

}  // namespace

TEST_CASE("environment merge: job first, step overrides in place", "[core][resolver]") {
  auto merged = core::mergeEnvironment({{"A", "1"}, {"B", "2"}}, {{"C", "3"}, {"A", "9"}});
  REQUIRE(merged.size() == 3);
  CHECK(merged[0].name == "A");
  CHECK(merged[0].value == "9");
  CHECK(merged[1].value == "2");
  CHECK(merged[2].name == "C");
}

TEST_CASE("resolution matches the golden files", "[core][resolver]") {
  auto channels = builtInChannels();
  const std::string dir = DRAY_TEST_DATA_DIR;
  for (const std::string name : {"word_job", "env_and_channels"}) {
    INFO(name);
    auto decoded = core::decodeJob(readFile(dir + "/" + name + ".json"));
    auto resolved = core::resolveJob(decoded.definition, "JOB", channels);
    const std::string golden = dir + "/" + name + ".resolved.json";
    // DRAY_UPDATE_GOLDEN=1 rewrites the expectations; review the diff before committing.
    if (std::getenv("DRAY_UPDATE_GOLDEN")) std::ofstream(golden) << describe(resolved, channels);
    CHECK(describe(resolved, channels) == readFile(golden));
  }
}

TEST_CASE("an output no channel accepts is a validation error", "[core][resolver]") {
  auto channels = builtInChannels();
  for (const std::string output : {"stdin", "relative/path", "/", "/a/../etc/passwd", "/a//b", "/dir/"}) {
    INFO(output);
    auto decoded = core::decodeJob(R"({"steps":[{"source":"a","output":")" + output + R"("}]})");
    CHECK_THROWS_AS(core::resolveJob(decoded.definition, "JOB", channels), core::ValidationError);
  }
}

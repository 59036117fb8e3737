#include "core/job_resolver.hpp"

#include <cstdlib>
#include <fstream>
#include <sstream>

#include <Poco/JSON/Array.h>
#include <Poco/JSON/Object.h>
#include <catch2/catch.hpp>

#include "core/errors.hpp"
#include "core/job_codec.hpp"
#include "plugins/output/file/file_channel.hpp"
#include "plugins/output/stderr/stderr_channel.hpp"
#include "plugins/output/stdout/stdout_channel.hpp"

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
    out.set("channel", channels.nameOf(step.channel.get()));
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

TEST_CASE("secrets: job environment < job secrets < step environment", "[core][resolver][secrets]") {
  auto channels = builtInChannels();
  auto decoded = core::decodeJob(R"({"environment":[{"variable":"A","value":"env"},{"variable":"B","value":"env"}],
    "secrets":[{"variable":"B","value":"secret-b"},{"variable":"C","value":"secret-c"}],
    "steps":[{"source":"x"},{"source":"y","environment":[{"variable":"C","value":"step"}]}]})");
  auto resolved = core::resolveJob(decoded.definition, "JOB", channels);
  auto env = [&](std::size_t step) {
    std::vector<std::string> out;
    for (const auto& var : resolved.steps[step].spec.env) out.push_back(var.name + "=" + var.value);
    return out;
  };
  // The identity variables come after the job's environment and secrets, before the step's.
  CHECK(env(0) == std::vector<std::string>{"A=env", "B=secret-b", "C=secret-c", "DRAY_JOB_ID=JOB",
                                           "DRAY_JOB_NAME=", "DRAY_CURRENT_STEP_INDEX=0",
                                           "DRAY_CURRENT_STEP_NAME=", "DRAY_CURRENT_STEP_ATTEMPT=1"});
  CHECK(env(1) == std::vector<std::string>{"A=env", "B=secret-b", "C=step", "DRAY_JOB_ID=JOB",
                                           "DRAY_JOB_NAME=", "DRAY_CURRENT_STEP_INDEX=1",
                                           "DRAY_CURRENT_STEP_NAME=", "DRAY_CURRENT_STEP_ATTEMPT=1"});
  // Masked even where a step overrode the variable: the value is still a secret.
  CHECK(resolved.secrets == std::vector<std::string>{"secret-b", "secret-c"});
}

TEST_CASE("an invalid image reference names the step and the reason", "[core][resolver][image]") {
  auto channels = builtInChannels();
  auto decoded = core::decodeJob(R"({"steps":[{"source":"ok/image"},{"source":"Bad/Image"}]})");
  try {
    core::resolveJob(decoded.definition, "JOB", channels);
    FAIL("accepted");
  } catch (const core::ValidationError& e) {
    CHECK_THAT(e.what(), Catch::Contains("steps[1].source") && Catch::Contains("upper-case letter in repository path"));
  }
}

// Found by fuzz_job_codec (issue 14): a name within 255 characters as written but longer
// once normalised ("docker.io/" added) was accepted, and the engine refuses it.
TEST_CASE("an image whose normalised name is too long is refused", "[core][resolver][image][fuzz]") {
  auto channels = builtInChannels();
  auto resolve = [&](const std::string& source) {
    auto decoded = core::decodeJob(R"({"steps":[{"source":")" + source + R"("}]})");
    return core::resolveJob(decoded.definition, "JOB", channels);
  };
  const std::string path = "dray-test/" + std::string(240, 'x');  // 250 characters as written
  try {
    resolve(path);
    FAIL("accepted");
  } catch (const core::ValidationError& e) {
    CHECK_THAT(e.what(), Catch::Contains("steps[0].source") && Catch::Contains("longer than 255"));
  }
  // 255 characters once normalised: still fine.
  const std::string longest = "dray-test/" + std::string(255 - std::string("docker.io/dray-test/").size(), 'x');
  CHECK(resolve(longest).steps[0].spec.image == "docker.io/" + longest + ":latest");
}

TEST_CASE("an image outside the allow-list is a policy error naming step and image", "[core][resolver][image]") {
  auto channels = builtInChannels();
  auto policy = core::ImagePolicy::fromSetting("dray-test/*");
  auto allowed =
      core::decodeJob(R"({"steps":[{"source":"dray-test/script"},{"source":"docker.io/dray-test/upper:1"}]})");
  auto resolved = core::resolveJob(allowed.definition, "JOB", channels, 0, policy);
  CHECK(resolved.steps[0].spec.image == "docker.io/dray-test/script:latest");  // the engine gets one spelling
  CHECK(resolved.steps[0].source == "dray-test/script");                       // records keep the client's
  CHECK(resolved.steps[1].spec.image == "docker.io/dray-test/upper:1");
  // A bare name could be read by docker as an image id prefix, and a tag next to a digest
  // means nothing to it: neither gets past the policy in the client's spelling.
  auto short_id = core::decodeJob(R"({"steps":[{"source":"05e12c41"}]})");
  auto everything = core::ImagePolicy::fromSetting("*");
  CHECK(core::resolveJob(short_id.definition, "JOB", channels, 0, everything).steps[0].spec.image ==
        "docker.io/library/05e12c41:latest");
  const std::string digest = "sha256:" + std::string(64, 'a');
  auto pinned = core::decodeJob(R"({"steps":[{"source":"dray-test/app:1.0@)" + digest + R"("}]})");
  auto tags = core::ImagePolicy::fromSetting("dray-test/app:1.*");
  CHECK_THROWS_AS(core::resolveJob(pinned.definition, "JOB", channels, 0, tags), core::PolicyError);
  CHECK(core::resolveJob(pinned.definition, "JOB", channels, 0, policy).steps[0].spec.image ==
        "docker.io/dray-test/app@" + digest);
  auto denied = core::decodeJob(R"({"steps":[{"source":"dray-test/script"},{"source":"library/busybox"}]})");
  try {
    core::resolveJob(denied.definition, "JOB", channels, 0, policy);
    FAIL("accepted");
  } catch (const core::PolicyError& e) {
    CHECK_THAT(e.what(), Catch::Contains("steps[1].source") && Catch::Contains("'library/busybox'") &&
                             Catch::Contains("docker.io/library/busybox:latest") && Catch::Contains("not allowed"));
  }
}

TEST_CASE("identity variables: job env < identity < step env, with the fork's names", "[core][resolver][identity]") {
  auto channels = builtInChannels();
  auto decoded = core::decodeJob(R"({"name":"nightly","environment":[{"variable":"DRAY_JOB_NAME","value":"job"}],
    "steps":[{"source":"x","name":"first"},
             {"source":"y","environment":[{"variable":"DRAY_CURRENT_STEP_INDEX","value":"mine"},
                                          {"variable":"DRAY_CURRENT_STEP_ATTEMPT","value":"7"}]}]})");
  auto resolved = core::resolveJob(decoded.definition, "JOB-ID", channels);
  auto value = [&](std::size_t step, const std::string& name) {
    for (const auto& var : resolved.steps[step].spec.env) {
      if (var.name == name) return var.value;
    }
    return std::string("<unset>");
  };
  CHECK(value(0, "DRAY_JOB_ID") == "JOB-ID");
  CHECK(value(0, "DRAY_JOB_NAME") == "nightly");  // identity beats the job's environment
  CHECK(value(0, "DRAY_CURRENT_STEP_INDEX") == "0");
  CHECK(value(0, "DRAY_CURRENT_STEP_NAME") == "first");
  CHECK(value(0, "DRAY_CURRENT_STEP_ATTEMPT") == "1");
  CHECK(value(1, "DRAY_CURRENT_STEP_NAME").empty());
  CHECK(value(1, "DRAY_CURRENT_STEP_INDEX") == "mine");  // the step's own variable wins
  CHECK(value(1, "DRAY_CURRENT_STEP_ATTEMPT") == "7");
  CHECK_FALSE(resolved.steps[0].step_sets_attempt);
  CHECK(resolved.steps[1].step_sets_attempt);
}

TEST_CASE("step resources: defaults and ceilings from the server, host network by permission",
          "[core][resolver][resources]") {
  auto channels = builtInChannels();
  core::StepLimits limits;
  limits.memory = 64 << 20;
  limits.nano_cpus = 1'000'000'000;
  limits.pids_limit = 100;
  limits.network_mode = "none";
  auto resolve = [&](const std::string& step, const core::StepLimits& with) {
    auto decoded = core::decodeJob(R"({"steps":[)" + step + "]}");
    return core::resolveJob(decoded.definition, "JOB", channels, 0, core::ImagePolicy(), with).steps[0].spec.resources;
  };
  auto defaults = resolve(R"({"source":"x"})", limits);
  CHECK(defaults.memory == 64 << 20);
  CHECK(defaults.nano_cpus == 1'000'000'000);
  CHECK(defaults.pids_limit == 100);
  CHECK(defaults.network_mode == "none");
  CHECK(defaults.cpu_shares == 0);
  auto asked = resolve(R"({"source":"x","memory":33554432,"cpus":0.5,"pidsLimit":50,"cpuShares":512,
                           "networkMode":"bridge"})",
                       limits);
  CHECK(asked.memory == 32 << 20);
  CHECK(asked.nano_cpus == 500'000'000);
  CHECK(asked.pids_limit == 50);
  CHECK(asked.cpu_shares == 512);
  CHECK(asked.network_mode == "bridge");
  // At the ceiling is fine, one above is refused with the setting's name.
  CHECK(resolve(R"({"source":"x","memory":67108864})", limits).memory == 64 << 20);
  CHECK_THROWS_WITH(resolve(R"({"source":"x","memory":67108865})", limits),
                    Catch::Contains("steps[0].memory") && Catch::Contains("DRAY_STEP_MEMORY"));
  CHECK_THROWS_WITH(resolve(R"({"source":"x","cpus":1.5})", limits), Catch::Contains("DRAY_STEP_CPUS=1"));
  CHECK_THROWS_WITH(resolve(R"({"source":"x","pidsLimit":101})", limits), Catch::Contains("DRAY_STEP_PIDS_LIMIT"));
  // Without ceilings anything goes; the engine's defaults stay (0, "").
  auto free = resolve(R"({"source":"x"})", core::StepLimits());
  CHECK(free.memory == 0);
  CHECK(free.network_mode.empty());
  for (const std::string mode : {"host", "container:abc"}) {
    INFO(mode);
    const std::string step = R"({"source":"x","networkMode":")" + mode + R"("})";
    CHECK_THROWS_AS(resolve(step, limits), core::PolicyError);
    core::StepLimits allowed = limits;
    allowed.allow_host_network = true;
    CHECK(resolve(step, allowed).network_mode == mode);
  }
}

// Job JSON codec and resolver: hostile job documents, as POST /jobs receives them.
// Checks that only ValidationError/PolicyError come out, that an accepted job keeps every
// documented limit, that the echo is valid JSON with `id` first and secrets masked, that the
// echo decodes to the same job, and that resolution merges environments (with the identity
// variables) and applies the image policy and resource defaults and ceilings as documented.
#include <algorithm>
#include <memory>
#include <string>

#include <Poco/JSON/Object.h>
#include <Poco/JSON/Parser.h>

#include "core/channel_set.hpp"
#include "core/errors.hpp"
#include "core/image_policy.hpp"
#include "core/image_reference.hpp"
#include "core/job_codec.hpp"
#include "core/job_resolver.hpp"
#include "core/secret_masker.hpp"
#include "tests/fuzz/fuzz_support.hpp"

namespace {

using namespace dray;

// Accepts what the built-in channels accept; never opened here.
class FakeChannel final : public sdk::OutputChannel {
 public:
  explicit FakeChannel(std::string name) : name_(std::move(name)) {}
  bool accepts(std::string_view output) const override {
    return name_ == "file" ? output.starts_with('/') : output == name_;
  }
  sdk::CapturePtr open(const sdk::StepSpec&, sdk::ByteSink&, sdk::Logger&) override { return nullptr; }

 private:
  std::string name_;
};

const core::ChannelSet& channels() {
  static const core::ChannelSet set = [] {
    core::ChannelSet built;
    for (const char* name : {"file", "stderr", "stdout"}) built.add(name, std::make_shared<FakeChannel>(name));
    return built;
  }();
  return set;
}

bool sameEnv(const std::vector<sdk::EnvVar>& a, const std::vector<sdk::EnvVar>& b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (a[i].name != b[i].name || a[i].value != b[i].value) return false;
  }
  return true;
}

bool sameResources(const sdk::Resources& a, const sdk::Resources& b) {
  return a.network_mode == b.network_mode && a.cpu_shares == b.cpu_shares && a.memory == b.memory &&
         a.nano_cpus == b.nano_cpus && a.pids_limit == b.pids_limit;
}

bool sameJob(const core::JobDefinition& a, const core::JobDefinition& b) {
  if (a.name != b.name || !sameEnv(a.environment, b.environment) || a.deadline != b.deadline || a.input != b.input ||
      a.steps.size() != b.steps.size()) {
    return false;
  }
  for (std::size_t i = 0; i < a.steps.size(); ++i) {
    const auto& x = a.steps[i];
    const auto& y = b.steps[i];
    if (x.name != y.name || x.source != y.source || x.output != y.output || x.refresh != y.refresh ||
        x.begin_delimiter != y.begin_delimiter || x.end_delimiter != y.end_delimiter ||
        !sameEnv(x.environment, y.environment) || x.timeout != y.timeout || !sameResources(x.resources, y.resources) ||
        x.retries != y.retries || x.retry_backoff != y.retry_backoff || x.retry_backoff_max != y.retry_backoff_max) {
      return false;
    }
  }
  return true;
}

void checkLimits(const core::JobDefinition& job) {
  FUZZ_CHECK(!job.steps.empty() && job.steps.size() <= core::kMaxSteps);
  FUZZ_CHECK(job.environment.size() <= core::kMaxEnvVars && job.secrets.size() <= core::kMaxEnvVars);
  FUZZ_CHECK(job.deadline == 0 || (job.deadline > 0 && job.deadline <= core::kMaxSeconds));
  auto checkEnv = [](const std::vector<sdk::EnvVar>& env) {
    for (const auto& var : env) {
      FUZZ_CHECK(!var.name.empty() && var.name.find_first_of(std::string_view("=\0", 2)) == std::string::npos);
      FUZZ_CHECK(var.name.size() <= core::kMaxStringLength && var.value.size() <= core::kMaxStringLength);
    }
  };
  checkEnv(job.environment);
  checkEnv(job.secrets);
  for (const auto& secret : job.secrets) FUZZ_CHECK(secret.value.size() >= core::kMinSecretLength);
  for (const auto& step : job.steps) {
    FUZZ_CHECK(!step.source.empty() && !step.output.empty());
    FUZZ_CHECK(step.begin_delimiter.empty() == step.end_delimiter.empty());
    FUZZ_CHECK(step.timeout == 0 || (step.timeout > 0 && step.timeout <= core::kMaxSeconds));
    FUZZ_CHECK(step.environment.size() <= core::kMaxEnvVars);
    checkEnv(step.environment);
    FUZZ_CHECK(step.retries <= core::kMaxRetries);
    FUZZ_CHECK(step.retry_backoff >= 0 && step.retry_backoff <= core::kMaxSeconds);
    FUZZ_CHECK(step.retry_backoff_max >= 0 && step.retry_backoff_max <= core::kMaxSeconds);
    const auto& r = step.resources;
    FUZZ_CHECK(r.cpu_shares >= 0 && r.memory >= 0 && r.nano_cpus >= 0 && r.pids_limit >= 0);
    FUZZ_CHECK(r.nano_cpus <= std::int64_t{1024} * 1000000000);
  }
}

// The echo: valid JSON, `id` first, every secret shown as the mask only.
void checkEcho(const std::string& echo, const std::string& id) {
  Poco::JSON::Object::Ptr object;
  try {
    Poco::JSON::Parser parser;
    object = parser.parse(echo).extract<Poco::JSON::Object::Ptr>();
  } catch (const std::exception& e) {
    std::fprintf(stderr, "echo is not a JSON object (%s): %s\n", e.what(), echo.c_str());
    FUZZ_FAIL("echo parses");
  }
  FUZZ_CHECK(echo.starts_with("{\"id\":\"" + id + "\""));
  FUZZ_CHECK(object->getValue<std::string>("id") == id);
  if (auto secrets = object->getArray("secrets")) {
    for (std::size_t i = 0; i < secrets->size(); ++i) {
      FUZZ_CHECK(secrets->getObject(i)->getValue<std::string>("value") == core::kSecretMask);
    }
  }
}

// Later definitions replace earlier ones in place: the value of each name is its last one.
void checkMerge(const std::vector<sdk::EnvVar>& merged, const std::vector<std::vector<sdk::EnvVar>>& layers) {
  for (std::size_t i = 0; i < merged.size(); ++i) {
    for (std::size_t j = 0; j < i; ++j) FUZZ_CHECK(merged[j].name != merged[i].name);
    std::string last;
    bool found = false;
    for (const auto& layer : layers) {
      for (const auto& var : layer) {
        if (var.name == merged[i].name) {
          last = var.value;
          found = true;
        }
      }
    }
    FUZZ_CHECK(found && last == merged[i].value);
  }
  for (const auto& layer : layers) {
    for (const auto& var : layer) {
      bool present = false;
      for (const auto& m : merged) present = present || m.name == var.name;
      FUZZ_CHECK(present);
    }
  }
}

// The identity variables every step gets, between the job's secrets and the step's own.
std::vector<sdk::EnvVar> identity(const core::JobDefinition& job, const std::string& id, std::size_t index) {
  return {{"DRAY_JOB_ID", id},
          {"DRAY_JOB_NAME", job.name},
          {"DRAY_CURRENT_STEP_INDEX", std::to_string(index)},
          {"DRAY_CURRENT_STEP_NAME", job.steps[index].name},
          {core::kAttemptVariable, "1"}};
}

// A resource as resolved: the ask, else the server's default; never above a ceiling.
void checkResource(std::int64_t resolved, std::int64_t asked, std::int64_t ceiling) {
  FUZZ_CHECK(resolved == (asked == 0 ? ceiling : asked));
  FUZZ_CHECK(ceiling == 0 || resolved <= ceiling);
}

// `open`: every image allowed, no ceilings, host networks allowed: nothing but a bad image
// reference or output may be refused.
void checkResolve(const core::JobDefinition& job, const core::ImagePolicy& policy, const core::StepLimits& limits,
                  bool open) {
  const std::string id = "0A1B2C3D-0000-4000-8000-00000000FFFF";
  core::ResolvedJob resolved;
  try {
    resolved = core::resolveJob(job, id, channels(), 7.5, policy, limits);
  } catch (const core::ValidationError&) {
    return;
  } catch (const core::PolicyError&) {
    FUZZ_CHECK(!open);
    return;
  }
  FUZZ_CHECK(resolved.id == id && resolved.name == job.name && resolved.deadline == job.deadline);
  FUZZ_CHECK(resolved.input == job.input);
  FUZZ_CHECK(resolved.steps.size() == job.steps.size() && resolved.secrets.size() == job.secrets.size());
  for (std::size_t i = 0; i < job.steps.size(); ++i) {
    const auto& step = resolved.steps[i];
    const auto& defined = job.steps[i];
    FUZZ_CHECK(step.spec.index == i && step.spec.job_id == id && step.source == defined.source);
    // The engine gets a normalised reference: normalising it again changes nothing.
    FUZZ_CHECK(core::normalizeImageReference(step.spec.image) == step.spec.image);
    FUZZ_CHECK(policy.allows(core::parseImageReference(step.spec.image)));
    FUZZ_CHECK(step.channel != nullptr && step.channel->accepts(defined.output));
    FUZZ_CHECK(step.timeout == (defined.timeout > 0 ? defined.timeout : 7.5));
    FUZZ_CHECK(step.retries == defined.retries && step.retry_backoff == defined.retry_backoff &&
               step.retry_backoff_max == defined.retry_backoff_max);
    checkMerge(step.spec.env, {job.environment, job.secrets, identity(job, id, i), defined.environment});
    const bool sets_attempt = std::any_of(defined.environment.begin(), defined.environment.end(),
                                          [](const sdk::EnvVar& var) { return var.name == core::kAttemptVariable; });
    FUZZ_CHECK(step.step_sets_attempt == sets_attempt);
    const auto& asked = defined.resources;
    const auto& got = step.spec.resources;
    checkResource(got.memory, asked.memory, limits.memory);
    checkResource(got.nano_cpus, asked.nano_cpus, limits.nano_cpus);
    checkResource(got.pids_limit, asked.pids_limit, limits.pids_limit);
    FUZZ_CHECK(got.cpu_shares == asked.cpu_shares);
    FUZZ_CHECK(got.network_mode == (asked.network_mode.empty() ? limits.network_mode : asked.network_mode));
    if (!limits.allow_host_network) {
      FUZZ_CHECK(got.network_mode != "host" && !got.network_mode.starts_with("container:"));
    }
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string body(reinterpret_cast<const char*>(data), size);
  core::DecodedJob decoded;
  try {
    decoded = core::decodeJob(body);
  } catch (const core::ValidationError&) {
    return 0;  // a 400 with a message: fine
  }
  checkLimits(decoded.definition);

  const std::string id = "3F1E0000-AAAA-4BBB-8CCC-DDDDDDDDDDDD";
  const std::string echo = core::encodeCreatedJob(decoded.document, id);
  checkEcho(echo, id);
  // The echo is what clients see and storage keeps: it must read back as the same job
  // (secrets aside, since only their mask is echoed).
  if (decoded.definition.secrets.empty()) {
    core::DecodedJob again;
    try {
      again = core::decodeJob(echo);
    } catch (const core::ValidationError& e) {
      std::fprintf(stderr, "echo does not decode (%s): %s\n", e.what(), echo.c_str());
      FUZZ_FAIL("echo decodes");
    }
    FUZZ_CHECK(sameJob(decoded.definition, again.definition));
    FUZZ_CHECK(core::encodeCreatedJob(again.document, id) == echo);
  }

  static const core::ImagePolicy allow_all;
  static const core::ImagePolicy some = core::ImagePolicy::fromSetting("dray-test/*, busybox:1.*, ghcr.io/**");
  core::StepLimits open_limits;
  open_limits.allow_host_network = true;
  core::StepLimits tight_limits{std::int64_t{1} << 30, 2000000000, 1000, "bridge", false};
  checkResolve(decoded.definition, allow_all, open_limits, true);
  checkResolve(decoded.definition, some, tight_limits, false);
  return 0;
}

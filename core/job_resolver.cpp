#include "core/job_resolver.hpp"

#include <algorithm>
#include <cstdio>

#include "core/errors.hpp"

namespace dray::core {

std::vector<sdk::EnvVar> mergeEnvironment(const std::vector<sdk::EnvVar>& job, const std::vector<sdk::EnvVar>& step) {
  std::vector<sdk::EnvVar> merged;
  auto put = [&merged](const sdk::EnvVar& var) {
    auto it = std::find_if(merged.begin(), merged.end(), [&](const auto& m) { return m.name == var.name; });
    if (it == merged.end()) {
      merged.push_back(var);
    } else {
      it->value = var.value;
    }
  };
  std::for_each(job.begin(), job.end(), put);
  std::for_each(step.begin(), step.end(), put);
  return merged;
}

namespace {

// Refuses a source that is not an image reference, or one the policy does not allow.
// Every spelling of an image is normalised first, so no spelling slips past a pattern.
// Returns the normalised reference, which is what the engine gets: given the client's
// spelling, docker would also try a bare name as the prefix of a local image id, and run
// the digest of `name:tag@digest` whatever the tag says, so either could dodge the policy.
std::string checkImage(const std::string& source, std::size_t index, const ImagePolicy& images) {
  const std::string where = "steps[" + std::to_string(index) + "].source";
  ImageReference image;
  try {
    image = parseImageReference(source);
    // The engine gets the normalised form, so it must be valid too: docker limits the
    // length of the full name, registry and `library/` included.
    parseImageReference(image.normalized());
  } catch (const ImageReferenceError& e) {
    throw ValidationError(where + " is not a valid image reference: " + e.what());
  }
  if (!image.digest.empty()) image.tag.clear();  // the digest alone says what runs
  if (!images.allows(image)) {
    throw PolicyError(where + ": image '" + source + "' (" + image.normalized() +
                      ") is not allowed by DRAY_ALLOWED_IMAGES");
  }
  return image.normalized();
}

// A step's resource ask against the server's default and ceiling (0 = none).
std::int64_t limited(std::int64_t asked, std::int64_t ceiling, const std::string& where, const char* setting,
                     double unit = 1) {
  if (asked == 0) return ceiling;
  if (ceiling > 0 && asked > ceiling) {
    auto shown = [unit](std::int64_t v) {
      char text[32];
      std::snprintf(text, sizeof text, "%g", static_cast<double>(v) / unit);
      return std::string(text);
    };
    throw ValidationError(where + " " + shown(asked) + " is above the server's limit " + setting + "=" +
                          shown(ceiling));
  }
  return asked;
}

sdk::Resources resolveResources(const sdk::Resources& asked, std::size_t index, const StepLimits& limits) {
  const std::string where = "steps[" + std::to_string(index) + "].";
  sdk::Resources out;
  out.cpu_shares = asked.cpu_shares;
  out.memory = limited(asked.memory, limits.memory, where + "memory", "DRAY_STEP_MEMORY");
  out.nano_cpus = limited(asked.nano_cpus, limits.nano_cpus, where + "cpus", "DRAY_STEP_CPUS", 1e9);
  out.pids_limit = limited(asked.pids_limit, limits.pids_limit, where + "pidsLimit", "DRAY_STEP_PIDS_LIMIT");
  out.network_mode = asked.network_mode.empty() ? limits.network_mode : asked.network_mode;
  // Sharing the host's or another container's network reaches what the engine host reaches.
  const bool shares_network = out.network_mode == "host" || out.network_mode.rfind("container:", 0) == 0;
  if (shares_network && !limits.allow_host_network) {
    throw PolicyError(where + "networkMode '" + out.network_mode + "' needs DRAY_ALLOW_HOST_NETWORK=1 on the server");
  }
  return out;
}

std::vector<sdk::EnvVar> identity(const JobDefinition& job, const std::string& id, std::size_t index) {
  return {{"DRAY_JOB_ID", id},
          {"DRAY_JOB_NAME", job.name},
          {"DRAY_CURRENT_STEP_INDEX", std::to_string(index)},
          {"DRAY_CURRENT_STEP_NAME", job.steps[index].name},
          {kAttemptVariable, "1"}};
}

}  // namespace

ResolvedJob resolveJob(const JobDefinition& job, const std::string& id, const ChannelSet& channels,
                       double default_step_timeout, const ImagePolicy& images, const StepLimits& limits) {
  ResolvedJob resolved{id, job.name, {}, job.deadline, job.stream, {}, job.input};
  for (const auto& secret : job.secrets) resolved.secrets.push_back(secret.value);
  // Precedence: job environment < job secrets < step environment. A step that sets a
  // secret's name itself gets its own value; the secret is still masked in the log.
  const std::vector<sdk::EnvVar> job_env = mergeEnvironment(job.environment, job.secrets);
  for (std::size_t i = 0; i < job.steps.size(); ++i) {
    const StepDefinition& step = job.steps[i];
    const std::string image = checkImage(step.source, i, images);
    std::shared_ptr<sdk::OutputChannel> channel = channels.find(step.output);
    if (!channel) {
      throw ValidationError("steps[" + std::to_string(i) + "].output '" + step.output +
                            "' is not stdout, stderr, an absolute path, or accepted by a loaded output plugin");
    }
    ResolvedStep out;
    out.spec.job_id = id;
    out.spec.index = i;
    out.spec.name = step.name;
    out.spec.image = image;
    out.source = step.source;
    out.spec.refresh = step.refresh;
    out.spec.env = mergeEnvironment(mergeEnvironment(job_env, identity(job, id, i)), step.environment);
    out.step_sets_attempt = std::any_of(step.environment.begin(), step.environment.end(),
                                        [](const sdk::EnvVar& var) { return var.name == kAttemptVariable; });
    out.spec.resources = resolveResources(step.resources, i, limits);
    out.spec.output = step.output;
    out.channel = std::move(channel);
    out.begin_delimiter = step.begin_delimiter;
    out.end_delimiter = step.end_delimiter;
    out.timeout = step.timeout > 0 ? step.timeout : default_step_timeout;
    out.retries = step.retries;
    out.retry_backoff = step.retry_backoff;
    out.retry_backoff_max = step.retry_backoff_max;
    resolved.steps.push_back(std::move(out));
  }
  return resolved;
}

}  // namespace dray::core

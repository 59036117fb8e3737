#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/channel_set.hpp"
#include "core/image_policy.hpp"
#include "core/job_definition.hpp"
#include "core/webhook_policy.hpp"
#include "dray/sdk/types.hpp"

namespace dray::core {

/// A step ready for the runner: plain data plus the channel that captures its output.
struct ResolvedStep {
  sdk::StepSpec spec;                           ///< spec.image is the normalised reference the engine runs
  std::string source;                           ///< the image as the client wrote it, for records and messages
  std::shared_ptr<sdk::OutputChannel> channel;  ///< shared: its captures keep the plugin loaded
  std::string begin_delimiter;                  ///< both empty = pass everything on
  std::string end_delimiter;
  double timeout = 0;              ///< seconds; 0 = unlimited
  unsigned retries = 0;            ///< extra attempts after a failed one
  double retry_backoff = 0;        ///< seconds before the first retry, doubling
  double retry_backoff_max = 300;  ///< cap of the doubling
  bool step_sets_attempt = false;  ///< the step's own env sets DRAY_CURRENT_STEP_ATTEMPT (it wins)
};

/// Identity variables every step gets (the production fork's names plus the attempt).
inline constexpr const char* kAttemptVariable = "DRAY_CURRENT_STEP_ATTEMPT";

/// Server-wide defaults and ceilings of step resources (DRAY_STEP_*): a step that asks for
/// nothing gets the default; one that asks above a ceiling is refused.
struct StepLimits {
  std::int64_t memory = 0;          ///< bytes; 0 = engine default, no ceiling
  std::int64_t nano_cpus = 0;       ///< 1e9 per CPU; 0 = engine default, no ceiling
  std::int64_t pids_limit = 0;      ///< 0 = engine default, no ceiling
  std::string network_mode;         ///< empty = the engine's default
  bool allow_host_network = false;  ///< DRAY_ALLOW_HOST_NETWORK: networkMode host or container:*
};

struct ResolvedJob {
  std::string id;
  std::string name;
  std::vector<ResolvedStep> steps;
  double deadline = 0;                                  ///< seconds for the whole job; 0 = unlimited
  bool stream = false;                                  ///< the steps run together, piped (mode "stream")
  std::vector<std::string> secrets;                     ///< values to mask in the job log; held only in memory
  std::string input;                                    ///< the first step's stdin
  std::chrono::steady_clock::time_point accepted_at{};  ///< when POST /jobs began: phase timings
  std::optional<WebhookTarget> callback{};              ///< the job's `callback`, secret included
};

/// Milliseconds since `since`, for the per-phase debug timings.
inline double millisecondsSince(std::chrono::steady_clock::time_point since) {
  return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - since).count();
}

/// Checks each step's image (a valid reference, allowed by `images`), merges environments
/// (job environment, then job secrets, then the identity variables DRAY_JOB_ID,
/// DRAY_JOB_NAME, DRAY_CURRENT_STEP_INDEX, DRAY_CURRENT_STEP_NAME and
/// DRAY_CURRENT_STEP_ATTEMPT, then step environment: a later one replaces a name in place,
/// first-definition order kept), picks each step's channel, applies `default_step_timeout`
/// (seconds, 0 = none) to steps without their own and `limits` to resources.
/// Throws ValidationError for an invalid image reference, an output no channel accepts or
/// a resource above its ceiling; PolicyError for an image the policy does not allow or a
/// host/container network without DRAY_ALLOW_HOST_NETWORK.
ResolvedJob resolveJob(const JobDefinition& job, const std::string& id, const ChannelSet& channels,
                       double default_step_timeout = 0, const ImagePolicy& images = ImagePolicy(),
                       const StepLimits& limits = StepLimits());

/// Job env then step env; a later definition of a name replaces the value in place.
std::vector<sdk::EnvVar> mergeEnvironment(const std::vector<sdk::EnvVar>& job, const std::vector<sdk::EnvVar>& step);

}  // namespace dray::core

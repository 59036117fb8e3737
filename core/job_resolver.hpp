#pragma once

#include <memory>
#include <string>
#include <vector>

#include "core/channel_set.hpp"
#include "core/image_policy.hpp"
#include "core/job_definition.hpp"
#include "dray/sdk/types.hpp"

namespace dray::core {

/// A step ready for the runner: plain data plus the channel that captures its output.
struct ResolvedStep {
  sdk::StepSpec spec;                           ///< spec.image is the normalised reference the engine runs
  std::string source;                           ///< the image as the client wrote it, for records and messages
  std::shared_ptr<sdk::OutputChannel> channel;  ///< shared: its captures keep the plugin loaded
  std::string begin_delimiter;                  ///< both empty = pass everything on
  std::string end_delimiter;
  double timeout = 0;  ///< seconds; 0 = unlimited
};

struct ResolvedJob {
  std::string id;
  std::string name;
  std::vector<ResolvedStep> steps;
  double deadline = 0;               ///< seconds for the whole job; 0 = unlimited
  std::vector<std::string> secrets;  ///< values to mask in the job log; held only in memory
};

/// Checks each step's image (a valid reference, allowed by `images`), merges environments
/// (job environment, then job secrets, then step environment: a later one replaces a name
/// in place, first-definition order kept), picks each step's channel and applies
/// `default_step_timeout` (seconds, 0 = none) to steps without their own.
/// Throws ValidationError for an invalid image reference or an output no channel accepts,
/// PolicyError for an image the policy does not allow.
ResolvedJob resolveJob(const JobDefinition& job, const std::string& id, const ChannelSet& channels,
                       double default_step_timeout = 0, const ImagePolicy& images = ImagePolicy());

/// Job env then step env; a later definition of a name replaces the value in place.
std::vector<sdk::EnvVar> mergeEnvironment(const std::vector<sdk::EnvVar>& job, const std::vector<sdk::EnvVar>& step);

}  // namespace dray::core

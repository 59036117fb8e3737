#pragma once

#include <string>
#include <vector>

#include "dray/sdk/types.hpp"

namespace dray::core {

/// One step exactly as the client described it (before resolution).
struct StepDefinition {
  std::string name;
  std::string source;
  std::string output = "stdout";
  bool refresh = false;
  std::string begin_delimiter;
  std::string end_delimiter;
  std::vector<sdk::EnvVar> environment;
  double timeout = 0;              ///< seconds; 0 = the configured default
  sdk::Resources resources;        ///< as asked (networkMode, cpuShares, memory, cpus, pidsLimit); 0 = not asked
  unsigned retries = 0;            ///< extra attempts after a failed one (0–10)
  double retry_backoff = 0;        ///< seconds before the first retry, doubling each time
  double retry_backoff_max = 300;  ///< cap of the doubling
};

/// A decoded, validated job description.
struct JobDefinition {
  std::string name;
  std::vector<sdk::EnvVar> environment;
  std::vector<sdk::EnvVar> secrets;  ///< real values: only in memory, never stored or echoed
  std::vector<StepDefinition> steps;
  double deadline = 0;              ///< seconds for the whole job; 0 = none
  bool stream = false;              ///< "mode": "stream": the steps run together, piped like a shell
  std::string input;                ///< bytes for the first step's stdin (decoded from base64 `input`)
  std::string callback_url;         ///< `callback.url`: where the job's end is posted ("": none)
  std::string callback_secret;      ///< `callback.secret` ("whsec_…"): only in memory, echoed as "***"
  bool rerun_on_node_loss = false;  ///< `rerunOnNodeLoss`: run again from step 0 when its node is lost
};

}  // namespace dray::core

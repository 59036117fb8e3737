#pragma once

#include <string>
#include <vector>

#include "app/cli/api_client.hpp"

namespace dray::cli {

/// Exit codes: the job's result when the CLI waited for it, else whether the call worked.
enum ExitCode : int {
  kOk = 0,           ///< done (with --wait/--follow: the job completed)
  kJobError = 1,     ///< the job ended "error"
  kJobCanceled = 2,  ///< the job ended "canceled"
  kApiError = 3,     ///< dray refused the request or could not be reached
  kUsage = 64,       ///< bad command line
};

struct Options {
  std::string url;
  Credentials credentials;
  bool wait = false;
  bool follow = false;
  bool json = false;
  std::vector<std::string> args;  ///< command and its operands
};

/// Runs one command; prints results to stdout, progress and errors to stderr.
int runCommand(ApiClient& api, const Options& options);

}  // namespace dray::cli

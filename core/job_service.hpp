#pragma once

#include <optional>
#include <string>
#include <vector>

#include "channel_set.hpp"
#include "dray/sdk/storage.hpp"
#include "job_runner.hpp"

namespace dray::core {

/// A job just accepted: its id and the JSON body POST /jobs answers with.
struct CreatedJob {
  std::string id;
  std::string body;
};

/// What the REST layer calls: accept, look up, read logs of and delete jobs.
/// Thread-safe (storage and runner are).
class JobService {
 public:
  JobService(sdk::Storage& storage, JobRunner& runner, const ChannelSet& channels)
      : storage_(storage), runner_(runner), channels_(channels) {}

  /// Validates, stores and queues a job. Throws ValidationError for bad input.
  CreatedJob create(const std::string& body);

  std::optional<sdk::JobRecord> find(const std::string& id) { return storage_.getJob(id); }
  std::vector<std::string> list() { return storage_.listJobs(); }

  /// Log lines from `from`, or nullopt if the job is unknown.
  std::optional<std::vector<std::string>> log(const std::string& id, std::size_t from);

  /// Deletes a job's records (a running job keeps running, as in the original). False if unknown.
  bool remove(const std::string& id) { return storage_.deleteJob(id); }

  /// A new upper-case 8-4-4-4-12 hex id.
  static std::string newJobId();

 private:
  sdk::Storage& storage_;
  JobRunner& runner_;
  const ChannelSet& channels_;
};

}  // namespace dray::core

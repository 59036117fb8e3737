/// Plain data the host hands to plugins after it decoded and resolved a job.
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace dray::sdk {

/// One environment variable.
struct EnvVar {
  std::string name;
  std::string value;
};

/// Engine resources of one step's container; 0 or empty = the engine's default. The host
/// already applied the server's defaults and ceilings (DRAY_STEP_*).
struct Resources {
  std::string network_mode;     ///< HostConfig.NetworkMode: bridge, host, none, container:<id>, a network
  std::int64_t cpu_shares = 0;  ///< HostConfig.CpuShares, a relative weight
  std::int64_t memory = 0;      ///< HostConfig.Memory, bytes
  std::int64_t nano_cpus = 0;   ///< HostConfig.NanoCpus, 1e9 = one CPU
  std::int64_t pids_limit = 0;  ///< HostConfig.PidsLimit

  bool operator==(const Resources&) const = default;
};

/// A step as resolved by the host: job and step environment already merged (step wins),
/// output spec already matched to a channel. Plugins never see the raw JSON.
struct StepSpec {
  std::string job_id;
  std::size_t index = 0;    ///< 0-based position in the job
  std::string name;         ///< may be empty
  std::string image;        ///< as given in `source`
  bool refresh = false;     ///< pull even when the image is present
  std::vector<EnvVar> env;  ///< merged, in first-definition order
  std::string output;       ///< the output spec, e.g. "stdout", "/out.txt"
  Resources resources;      ///< limits for the step's container
};

/// What the runtime creates. Output channels may adjust it in Capture::prepare.
struct ContainerSpec {
  std::string image;
  std::vector<std::string> env;               ///< "NAME=value"
  std::map<std::string, std::string> labels;  ///< the host adds dray.job / dray.step
  Resources resources;                        ///< copied from the step
};

/// Job status strings kept compatible with the original API.
inline constexpr const char* kStatusRunning = "running";
inline constexpr const char* kStatusComplete = "complete";
inline constexpr const char* kStatusError = "error";
inline constexpr const char* kStatusCanceled = "canceled";

/// One step of a job as storage keeps it. Times are RFC 3339 UTC ("…T…Z"), empty until known.
struct StepRecord {
  std::string name;
  std::string image;
  std::string state = "pending";  ///< pending, running, complete, error, canceled
  int exit_code = -1;             ///< -1 until the container exited
  std::string started_at;
  std::string finished_at;
  unsigned attempts = 0;  ///< attempts made so far (1 + retries used); 0 before the first
  /// How many lines the job log held when this attempt started, and when it ended (0 until
  /// then): where the step's start and end fall among the log lines, so live events can
  /// put them in order with the lines.
  std::size_t log_from = 0;
  std::size_t log_until = 0;
};

/// What became of a job's `callback` webhook, as the job record shows it.
struct CallbackRecord {
  bool requested = false;  ///< the job has a callback (the other fields mean nothing without)
  bool delivered = false;
  unsigned attempts = 0;   ///< attempts made so far
  std::string last_error;  ///< why the last attempt failed; empty when none did
};

/// A webhook delivery that is not done yet. Storage keeps it (when it can) so that a
/// restarted dray goes on with it: deliveries are made at least once. Never holds a secret.
struct PendingDelivery {
  std::string id;  ///< the webhook-id header, the same for every attempt
  std::string job_id;
  std::string url;
  std::string body;            ///< the final job record as JSON
  std::string owner;           ///< the dray instance that made it (and holds its secret)
  bool job_callback = false;   ///< to the job's own `callback` (else to the server's webhook)
  bool signed_by_job = false;  ///< signed with the job's own secret, which is lost with a restart
  unsigned attempts = 0;       ///< attempts made so far
};

/// A job as storage keeps it.
struct JobRecord {
  std::string id;           ///< upper-case 8-4-4-4-12 hex
  std::string description;  ///< the submitted job as JSON text (opaque to storage)
  std::size_t total_steps = 0;
  std::size_t completed_steps = 0;
  std::string status = kStatusRunning;
  std::string owner;              ///< the dray instance that runs it (restart recovery)
  std::string creator;            ///< name of the API token that submitted it; empty without auth
  std::string name;               ///< the job's name, may be empty
  std::string created_at;         ///< RFC 3339 UTC
  std::string started_at;         ///< empty until a worker took it
  std::string finished_at;        ///< empty until it ended
  std::string finished_in;        ///< seconds the job took, decimal ("2.514"); empty until it ended
  std::vector<StepRecord> steps;  ///< one per step (may be empty for records from the original)
  CallbackRecord callback;        ///< the job's `callback` webhook, when it has one
};

/// Whether a backend can be used right now, for GET /healthz.
struct HealthReport {
  bool ok = true;
  std::string detail;  ///< what was checked, or what is wrong
};

}  // namespace dray::sdk

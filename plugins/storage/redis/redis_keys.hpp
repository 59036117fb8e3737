#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace dray::plugins::storage::redis {

/// The original Dray's schema under a prefix (the fork's DRAY_JOBS_KEY, default `jobs`),
/// plus our own keys per job: every key starts with the prefix.
class RedisKeys {
 public:
  explicit RedisKeys(std::string prefix = "jobs") : prefix_(std::move(prefix)) {}

  const std::string& jobs() const { return prefix_; }                          ///< list of job ids, oldest first
  std::string job(const std::string& id) const { return prefix_ + ":" + id; }  ///< hash
  std::string node(const std::string& name) const { return prefix_ + ":nodes:" + name; }  ///< string: holder \n info
  std::string nodePattern() const { return prefix_ + ":nodes:*"; }
  std::string queue() const { return prefix_ + ":queue"; }  ///< stream of jobs any node may take
  std::string control(const std::string& node) const { return prefix_ + ":control:" + node; }  ///< stream
  std::string log(const std::string& id) const { return job(id) + ":log"; }                    ///< list
  std::string output(const std::string& id) const { return job(id) + ":output"; }              ///< string (fork)
  std::string description(const std::string& id) const { return job(id) + ":description"; }    ///< string (ours)
  std::string steps(const std::string& id) const { return job(id) + ":steps"; }  ///< hash index -> JSON (ours)

  /// Where a job's changes are announced to every dray sharing this Redis (live events):
  /// `dray:events:<id>`, under a non-default prefix `dray:events:<prefix>:<id>`. Never
  /// matches the fork's `<id>:*`.
  std::string changeChannel(const std::string& id) const { return changeChannelPrefix() + id; }
  std::string changeChannelPrefix() const {
    return prefix_ == "jobs" ? "dray:events:" : "dray:events:" + prefix_ + ":";
  }

  /// Hash of pending webhook deliveries: delivery id -> JSON (ours; the webhook outbox).
  std::string webhooks() const { return prefix_ + ":webhooks"; }

  /// Every key a job owns, in the order the scripts take them (redis_scripts.hpp).
  std::vector<std::string> ofJob(const std::string& id) const {
    return {job(id), log(id), output(id), description(id), steps(id)};
  }

 private:
  std::string prefix_;
};

/// Where a change of a job is announced: `<id>:<field>`, the bare id without the key prefix,
/// as the fork published it (its clients PSUBSCRIBE `<id>:*`).
inline std::string eventChannel(const std::string& id, std::string_view field) {
  std::string channel;
  channel.reserve(id.size() + 1 + field.size());
  return channel.append(id).append(":").append(field);
}

}  // namespace dray::plugins::storage::redis

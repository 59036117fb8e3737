#pragma once

#include <string>

// The original Dray's schema, plus one additive key per job.
namespace dray::plugins::storage::redis::keys {

inline const std::string kJobs = "jobs";                                         ///< list of job ids, oldest first
inline std::string job(const std::string& id) { return "jobs:" + id; }           ///< hash
inline std::string log(const std::string& id) { return "jobs:" + id + ":log"; }  ///< list
inline std::string description(const std::string& id) { return "jobs:" + id + ":description"; }  ///< string (ours)
inline std::string steps(const std::string& id) { return "jobs:" + id + ":steps"; }  ///< hash index -> JSON (ours)

}  // namespace dray::plugins::storage::redis::keys

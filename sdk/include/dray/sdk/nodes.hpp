/// Node membership: several dray nodes sharing one storage hold leases on their names.
#pragma once

#include <chrono>
#include <string>
#include <utility>
#include <vector>

#include "dray/sdk/visibility.hpp"

namespace dray::sdk {

/// Leases on node names with a time to live, kept by a storage that several dray processes
/// share (Storage::nodes()). A node holds the lease on its name (DRAY_INSTANCE) while it
/// runs and renews it well before it expires; a second process that asks for a name whose
/// lease is live is refused, so two nodes never share a name (nor reap each other's
/// containers). Every method may be called from any thread; failures throw StorageError.
class DRAY_SDK_API NodeRegistry {
 public:
  virtual ~NodeRegistry() = default;

  /// Takes the lease on `name` for `ttl`, holding `info` (JSON text that GET /nodes shows),
  /// unless another holder's lease on it is live: then false. `holder` is unique per process.
  virtual bool acquire(const std::string& name, const std::string& holder, const std::string& info,
                       std::chrono::milliseconds ttl) = 0;
  /// Extends `holder`'s lease for `ttl` and replaces its info. False when `holder` does not
  /// hold it any more (it expired, and maybe another holder took it).
  virtual bool renew(const std::string& name, const std::string& holder, const std::string& info,
                     std::chrono::milliseconds ttl) = 0;
  /// Gives the lease up, if `holder` holds it.
  virtual void release(const std::string& name, const std::string& holder) = 0;
  /// Every live lease: name and info, in no particular order.
  virtual std::vector<std::pair<std::string, std::string>> list() = 0;
};

}  // namespace dray::sdk

#pragma once

// The one change watcher a storage tells about job changes (sdk::Storage::watchChanges),
// set at start-up and read by every writer thread.
#include <memory>
#include <mutex>
#include <string>

#include "dray/sdk/storage.hpp"

namespace dray::plugins::storage {

class ChangeNotifier {
 public:
  void set(sdk::ChangeWatcher watcher) {
    auto next = std::make_shared<const sdk::ChangeWatcher>(std::move(watcher));
    std::lock_guard lock(mutex_);
    watcher_.swap(next);
  }
  /// Call after the change is readable, outside the storage's locks. The watcher runs
  /// outside this lock too: it may be replaced meanwhile, and the old one stays alive
  /// until this call is done with it.
  void notify(const std::string& id, sdk::JobChange change) const {
    std::shared_ptr<const sdk::ChangeWatcher> watcher;
    {
      // A plain mutex, not std::atomic<std::shared_ptr>: libstdc++'s lock bit in the
      // latter is invisible to ThreadSanitizer, which then reports races that are not.
      std::lock_guard lock(mutex_);
      watcher = watcher_;
    }
    if (watcher && *watcher) (*watcher)(id, change);
  }

 private:
  mutable std::mutex mutex_;
  std::shared_ptr<const sdk::ChangeWatcher> watcher_;
};

}  // namespace dray::plugins::storage

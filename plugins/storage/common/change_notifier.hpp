#pragma once

// The one change watcher a storage tells about job changes (sdk::Storage::watchChanges),
// set at start-up and read by every writer thread without a lock.
#include <atomic>
#include <memory>
#include <string>

#include "dray/sdk/storage.hpp"

namespace dray::plugins::storage {

class ChangeNotifier {
 public:
  void set(sdk::ChangeWatcher watcher) {
    watcher_.store(std::make_shared<const sdk::ChangeWatcher>(std::move(watcher)));
  }
  bool watched() const { return watcher_.load() != nullptr; }
  /// Call after the change is readable, outside the storage's locks.
  void notify(const std::string& id, sdk::JobChange change) const {
    auto watcher = watcher_.load();
    if (watcher && *watcher) (*watcher)(id, change);
  }

 private:
  std::atomic<std::shared_ptr<const sdk::ChangeWatcher>> watcher_;
};

}  // namespace dray::plugins::storage

#pragma once

#include <sys/socket.h>

#include <mutex>
#include <set>

#include "dray/sdk/errors.hpp"

namespace dray::plugins::runtime::docker {

/// Lets another thread end blocking engine calls and attach streams at once: fire()
/// shuts their sockets down, so a thread blocked in recv or send returns with an error.
/// Calls register their socket while they run (Armed). A call that starts after fire()
/// fails at once. Thread-safe; fire() never blocks.
class CallInterrupt {
 public:
  /// Registers `fd` for the lifetime of the object. Throws EngineError("interrupted")
  /// when fire() already happened.
  class Armed {
   public:
    Armed(CallInterrupt* interrupt, int fd) : interrupt_(interrupt), fd_(fd) {
      if (interrupt_) interrupt_->add(fd_);
    }
    ~Armed() {
      if (interrupt_) interrupt_->erase(fd_);
    }
    Armed(const Armed&) = delete;
    Armed& operator=(const Armed&) = delete;

   private:
    CallInterrupt* interrupt_;
    int fd_;
  };

  void fire() {
    std::lock_guard lock(mutex_);
    fired_ = true;
    for (int fd : fds_) ::shutdown(fd, SHUT_RDWR);
  }

  bool fired() const {
    std::lock_guard lock(mutex_);
    return fired_;
  }

 private:
  void add(int fd) {
    std::lock_guard lock(mutex_);
    if (fired_) throw sdk::EngineError("interrupted");
    fds_.insert(fd);
  }
  void erase(int fd) {
    std::lock_guard lock(mutex_);
    fds_.erase(fd);
  }

  mutable std::mutex mutex_;
  std::set<int> fds_;
  bool fired_ = false;
};

}  // namespace dray::plugins::runtime::docker

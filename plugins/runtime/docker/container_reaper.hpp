#pragma once

#include <chrono>
#include <condition_variable>
#include <deque>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "dray/sdk/log.hpp"
#include "plugins/runtime/docker/call_interrupt.hpp"
#include "plugins/runtime/docker/docker_client.hpp"

namespace dray::plugins::runtime::docker {

/// Keeps removing containers the engine did not remove in time, on one background thread,
/// with backoff (1 s, doubling, at most a minute between tries) and a log line per failed
/// try, so a wedged container never holds a worker. Also finds containers by label (a
/// create whose answer was lost) and removes them. Thread-safe.
class ContainerReaper {
 public:
  ContainerReaper(DockerClient& client, sdk::Logger& logger, Poco::Timespan call_timeout);
  /// Stops at once (interrupting a call in flight) and logs what it leaves behind.
  ~ContainerReaper();
  ContainerReaper(const ContainerReaper&) = delete;
  ContainerReaper& operator=(const ContainerReaper&) = delete;

  /// Removes `id` (force) until the engine confirms it is gone.
  void remove(const std::string& id);
  /// Removes every container carrying all of `labels` ("key=value"). The search runs
  /// `delay` from now and is repeated a few times: a create the engine is still working
  /// on may make its container after a first look found nothing.
  void removeLabelled(std::vector<std::string> labels, std::chrono::milliseconds delay);
  /// Containers not removed yet.
  std::size_t pending() const;

 private:
  using Clock = std::chrono::steady_clock;
  struct Task {
    std::string container;  // empty: a label search
    std::vector<std::string> labels;
    unsigned attempts = 0;
    Clock::time_point due;
    unsigned searches_left = 0;  // label search: further looks after this one
  };

  void loop();
  bool attempt(Task& task);  // true when done
  void schedule(Task task);

  DockerClient& client_;
  sdk::Logger& logger_;
  Poco::Timespan call_timeout_;
  mutable std::mutex mutex_;
  std::condition_variable wake_;
  std::multimap<Clock::time_point, Task> tasks_;
  std::size_t in_flight_ = 0;
  bool stopping_ = false;
  CallInterrupt interrupt_;
  std::thread thread_;
};

}  // namespace dray::plugins::runtime::docker

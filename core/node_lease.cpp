#include "core/node_lease.hpp"

#include <Poco/UUIDGenerator.h>

namespace dray::core {
namespace {
using Clock = std::chrono::steady_clock;
}  // namespace

NodeLease::NodeLease(sdk::NodeRegistry& registry, NodeLeaseOptions options, sdk::Logger& logger)
    : registry_(registry), options_(std::move(options)), logger_(logger),
      holder_(Poco::UUIDGenerator::defaultGenerator().createRandom().toString()) {
  // A lease left by a run of this node that did not stop cleanly (kill -9, a crash) ends
  // within one ttl; one still held after that is renewed by a live node.
  const auto patience = options_.ttl + options_.ttl / 3;
  const auto give_up = Clock::now() + patience;
  auto sent_at = Clock::now();
  bool held = registry_.acquire(options_.name, holder_, options_.info(), options_.ttl);
  if (!held) {
    logger_.warn("node lease on '" + options_.name + "' is held: waiting up to " + std::to_string(patience.count()) +
                 " ms for it to end (a run of this node that did not stop cleanly leaves one behind)");
  }
  while (!held && Clock::now() < give_up) {
    std::this_thread::sleep_for(options_.ttl / 10);
    sent_at = Clock::now();
    held = registry_.acquire(options_.name, holder_, options_.info(), options_.ttl);
  }
  if (!held) {
    throw NodeNameTaken("another dray node named '" + options_.name +
                        "' is alive on this storage (its lease is renewed): give this one another DRAY_INSTANCE, "
                        "or stop that one");
  }
  renewed_at_ = sent_at;
  renewer_ = std::thread([this] { renewLoop(); });
  fence_ = std::thread([this] { fenceLoop(); });
}

NodeLease::~NodeLease() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_all();
  renewer_.join();
  fence_.join();
  try {
    registry_.release(options_.name, holder_);
  } catch (const std::exception& e) {
    logger_.warn(std::string("node lease: could not release it (it ends by itself): ") + e.what());
  }
}

void NodeLease::renewLoop() {
  std::unique_lock lock(mutex_);
  while (!wake_.wait_for(lock, options_.ttl / 3, [this] { return stopping_; })) {
    const bool was_fenced = fenced_;
    lock.unlock();
    // The lease lives until ttl after Redis ran the renewal, so at least until ttl after
    // it was sent: the fence counts from the sending.
    const auto sent_at = Clock::now();
    bool held = false;
    std::string failure;
    try {
      // Once fenced, the name must be free again: another node may have taken it meanwhile.
      held = was_fenced ? registry_.acquire(options_.name, holder_, options_.info(), options_.ttl)
                        : registry_.renew(options_.name, holder_, options_.info(), options_.ttl);
      if (!held) failure = "it is not ours any more";
    } catch (const std::exception& e) {
      failure = e.what();
    }
    if (!held) logger_.warn("node lease on '" + options_.name + "' not renewed: " + failure);
    lock.lock();
    if (held) {
      renewed_at_ = sent_at;
      if (fenced_) {
        fenced_ = false;
        lock.unlock();
        logger_.info("node lease on '" + options_.name + "' taken again");
        {
          std::lock_guard callbacks(callbacks_mutex_);
          if (options_.on_regained) options_.on_regained();
        }
        lock.lock();
      }
    } else {
      last_failure_ = failure;
    }
    wake_.notify_all();
  }
}

// Fences at the moment the lease may have ended (ttl after the last renewal that worked was
// sent), whatever the renewer is doing: a renewal call stuck on a paused Redis must not
// delay it, or another node could take this node's jobs while they still run.
void NodeLease::fenceLoop() {
  std::unique_lock lock(mutex_);
  while (!stopping_) {
    const auto ends = renewed_at_ + options_.ttl;
    if (fenced_ || Clock::now() < ends) {
      wake_.wait_until(lock, fenced_ ? Clock::now() + options_.ttl : ends);
      continue;
    }
    fenced_ = true;
    const std::string why = last_failure_.empty() ? "no renewal in time" : last_failure_;
    // Taken before the lease's lock is let go: a renewal that works meanwhile waits for
    // on_lost to return before it calls on_regained, never the other way round.
    std::unique_lock callbacks(callbacks_mutex_);
    lock.unlock();
    options_.on_lost("dray: node " + options_.name + " lost its lease (" + why +
                     "); its running jobs were stopped so that no job runs on two nodes");
    callbacks.unlock();
    lock.lock();
  }
}

}  // namespace dray::core

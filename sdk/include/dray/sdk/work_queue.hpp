/// Scale-out: a queue of jobs that every dray node on one storage takes work from.
#pragma once

#include <chrono>
#include <cstddef>
#include <string>
#include <vector>

#include "dray/sdk/visibility.hpp"

namespace dray::sdk {

/// One job handed to a node by the shared queue.
struct QueueEntry {
  std::string entry_id;  ///< the queue's own id of the entry (acknowledge() takes it)
  std::string job_id;
};

/// A message to one node, in the order sent.
struct NodeMessage {
  std::string id;    ///< increasing, unique
  std::string text;  ///< e.g. "cancel <job id>"
};

/// The jobs of every node sharing a storage (Storage::queue()), in the pattern of a stream
/// with one consumer group: a job is pushed once, delivered to exactly one node, stays
/// pending for that node until acknowledged, and can be claimed by another node when its
/// node is gone. Also carries small messages to one node (cancel). Every method may be
/// called from any thread; failures throw StorageError.
class DRAY_SDK_API WorkQueue {
 public:
  virtual ~WorkQueue() = default;

  /// Adds a job that any node may take. (Storage::createJob queues a job without an owner
  /// by itself; this is for a job whose entry was lost.)
  virtual void push(const std::string& job_id) = 0;
  /// Up to `max` jobs for `node`, waiting up to `wait` for the first. They stay pending for
  /// `node` until acknowledged.
  virtual std::vector<QueueEntry> take(const std::string& node, std::size_t max, std::chrono::milliseconds wait) = 0;
  /// The entries delivered to `node` and not acknowledged, oldest first.
  virtual std::vector<QueueEntry> pending(const std::string& node) = 0;
  /// Moves `from`'s pending entries to `to` and returns them. An entry another node moved
  /// in the last `min_idle` stays where it is, so two nodes claiming at once never both
  /// get it.
  virtual std::vector<QueueEntry> claim(const std::string& from, const std::string& to,
                                        std::chrono::milliseconds min_idle) = 0;
  /// The job of this entry ended (or will never run): it leaves the queue.
  virtual void acknowledge(const std::string& entry_id) = 0;
  /// Every node the queue has delivered to and not forgotten.
  virtual std::vector<std::string> consumers() = 0;
  /// Forgets a node that has nothing pending.
  virtual void forget(const std::string& node) = 0;
  /// Jobs pushed and not yet delivered to any node.
  virtual std::size_t depth() = 0;

  /// Makes `node` the job's owner, unless another node already is: then false. The one
  /// owner runs the job, or ends it when it is canceled before it ran; a node that took
  /// the job from the queue but cannot reserve it only acknowledges it.
  virtual bool reserve(const std::string& job_id, const std::string& node) = 0;
  /// Makes `to` the owner of a job that `from` owned (after `from` was lost). False when
  /// `from` no longer owns it.
  virtual bool transfer(const std::string& job_id, const std::string& from, const std::string& to) = 0;

  /// Sends a message to `node` (kept for it a while even if it is not listening now).
  virtual void send(const std::string& node, const std::string& text) = 0;
  /// Messages to `node` after `cursor`, waiting up to `wait` for the first; `cursor` moves
  /// past those returned. An empty cursor starts after the last message sent so far.
  virtual std::vector<NodeMessage> receive(const std::string& node, std::string& cursor,
                                           std::chrono::milliseconds wait) = 0;
};

}  // namespace dray::sdk

// The nodes' shared queue (RedisWorkQueue) against a real redis-server: delivery to one
// node at a time, pending entries, take-over, ownership scripts and node messages.
#include <algorithm>
#include <set>

#include <catch2/catch.hpp>

#include "plugins/storage/redis/redis_storage.hpp"
#include "tests/fakes/job_records.hpp"
#include "tests/fakes/string_streams.hpp"
#include "tests/support/test_support.hpp"

namespace {

using namespace dray;
using namespace dray::plugins::storage::redis;
using namespace std::chrono_literals;

struct Queue {
  test::RedisServer server;
  test::RecordingLogger logger;
  RedisStorage storage{address(), options(), logger};
  sdk::WorkQueue& queue = *storage.queue();

  RedisAddress address() const {
    RedisAddress local;
    local.port = server.port();
    return local;
  }
  static RedisStorageOptions options() {
    RedisStorageOptions quick;
    quick.startup_wait = 2s;
    return quick;
  }
};

std::vector<std::string> jobIds(const std::vector<sdk::QueueEntry>& entries) {
  std::vector<std::string> ids;
  for (const auto& entry : entries) ids.push_back(entry.job_id);
  return ids;
}

}  // namespace

TEST_CASE("queue: each job goes to one node, up to the count asked, and stays pending until acknowledged",
          "[redis][queue]") {
  Queue q;
  CHECK(q.queue.depth() == 0);
  for (const char* id : {"J-1", "J-2", "J-3"}) q.queue.push(id);
  CHECK(q.queue.depth() == 3);
  const auto first = q.queue.take("node-a", 2, 100ms);
  CHECK(jobIds(first) == std::vector<std::string>{"J-1", "J-2"});
  CHECK(q.queue.depth() == 1);
  CHECK(jobIds(q.queue.take("node-b", 5, 100ms)) == std::vector<std::string>{"J-3"});
  CHECK(q.queue.take("node-b", 5, 100ms).empty());  // nothing left: waits, then nothing
  CHECK(jobIds(q.queue.pending("node-a")) == std::vector<std::string>{"J-1", "J-2"});
  q.queue.acknowledge(first[0].entry_id);
  CHECK(jobIds(q.queue.pending("node-a")) == std::vector<std::string>{"J-2"});
  const auto consumers = q.queue.consumers();
  CHECK(std::set<std::string>(consumers.begin(), consumers.end()) == std::set<std::string>{"node-a", "node-b"});
  CHECK(q.server.cli("XLEN jobs:queue") == "2\n");  // acknowledged entries are deleted
}

TEST_CASE("queue: a lost node's entries are claimed once, and a node with nothing pending is forgotten",
          "[redis][queue]") {
  Queue q;
  q.queue.push("J-1");
  q.queue.push("J-2");
  REQUIRE(q.queue.take("lost", 2, 100ms).size() == 2);
  const auto claimed = q.queue.claim("lost", "survivor-1", 0ms);
  CHECK(jobIds(claimed) == std::vector<std::string>{"J-1", "J-2"});
  // A second survivor asking right after gets nothing: the entries were moved a moment ago.
  CHECK(q.queue.claim("lost", "survivor-2", 10s).empty());
  CHECK(q.queue.claim("survivor-1", "survivor-2", 10s).empty());
  CHECK(q.queue.pending("lost").empty());
  CHECK(jobIds(q.queue.pending("survivor-1")) == std::vector<std::string>{"J-1", "J-2"});
  q.queue.forget("lost");
  q.queue.forget("survivor-1");  // still has entries pending: kept
  const auto consumers = q.queue.consumers();
  CHECK(std::count(consumers.begin(), consumers.end(), "lost") == 0);
  CHECK(std::count(consumers.begin(), consumers.end(), "survivor-1") == 1);
  CHECK(jobIds(q.queue.pending("survivor-1")).size() == 2);
}

TEST_CASE("queue: reserve gives a job one owner, transfer moves it only from its owner", "[redis][queue]") {
  Queue q;
  sdk::JobRecord record = test::jobRecord("J-1", 1, "{}");
  record.owner = "";
  q.storage.createJob(record);
  CHECK_FALSE(q.queue.reserve("J-missing", "node-a"));
  CHECK(q.queue.reserve("J-1", "node-a"));
  CHECK(q.queue.reserve("J-1", "node-a"));  // again: it is already this node's
  CHECK_FALSE(q.queue.reserve("J-1", "node-b"));
  CHECK(q.storage.getJob("J-1")->owner == "node-a");
  CHECK_FALSE(q.queue.transfer("J-1", "node-b", "node-c"));  // node-b does not own it
  CHECK(q.queue.transfer("J-1", "node-a", "node-b"));
  CHECK(q.storage.getJob("J-1")->owner == "node-b");
  CHECK_FALSE(q.queue.transfer("J-1", "node-a", "node-c"));  // a second survivor: too late
}

TEST_CASE("queue: messages reach their node in order, none lost between reads, none from before", "[redis][queue]") {
  Queue q;
  q.queue.send("node-a", "cancel OLD");  // before the node listened: not for it
  std::string cursor;
  CHECK(q.queue.receive("node-a", cursor, 100ms).empty());
  q.queue.send("node-a", "cancel J-1");
  q.queue.send("node-b", "cancel J-9");
  q.queue.send("node-a", "cancel J-2");
  std::vector<std::string> texts;
  for (const auto& message : q.queue.receive("node-a", cursor, 100ms)) texts.push_back(message.text);
  CHECK(texts == std::vector<std::string>{"cancel J-1", "cancel J-2"});
  CHECK(q.queue.receive("node-a", cursor, 100ms).empty());
  q.queue.send("node-a", "cancel J-3");  // between two reads
  CHECK(q.queue.receive("node-a", cursor, 100ms).front().text == "cancel J-3");
}

TEST_CASE("queue: a deleted stream is made again instead of failing every read", "[redis][queue]") {
  Queue q;
  q.server.cli("DEL jobs:queue");
  CHECK(q.queue.take("node-a", 1, 100ms).empty());  // NOGROUP: the group is created again
  q.queue.push("J-1");
  CHECK(jobIds(q.queue.take("node-a", 1, 100ms)) == std::vector<std::string>{"J-1"});
}

TEST_CASE("queue: a job created without an owner is queued with its record, one with an owner is not",
          "[redis][queue]") {
  Queue q;
  sdk::JobRecord shared = test::jobRecord("J-shared", 1, "{}");
  shared.owner = "";
  sdk::JobRecord kept = test::jobRecord("J-kept", 1, "{}");
  kept.owner = "node-a";
  q.storage.createJob(shared);
  q.storage.createJob(kept);
  CHECK(q.queue.depth() == 1);
  CHECK(jobIds(q.queue.take("node-b", 5, 100ms)) == std::vector<std::string>{"J-shared"});
}

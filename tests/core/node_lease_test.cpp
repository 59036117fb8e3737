#include "core/node_lease.hpp"

#include <atomic>
#include <mutex>

#include <catch2/catch.hpp>

#include "tests/support/test_support.hpp"

namespace {

using namespace std::chrono_literals;

class QuietLogger : public dray::sdk::Logger {
 public:
  void log(dray::sdk::LogLevel, std::string_view) override {}
};

// One lease in memory; a switch makes the storage unreachable.
class FakeRegistry : public dray::sdk::NodeRegistry {
 public:
  std::atomic<bool> reachable{true};
  std::atomic<int> renewals{0};
  std::mutex mutex;
  std::string holder;

  bool acquire(const std::string&, const std::string& who, const std::string&, std::chrono::milliseconds) override {
    if (!reachable) throw std::runtime_error("unreachable");
    std::lock_guard lock(mutex);
    if (!holder.empty() && holder != who) return false;
    holder = who;
    return true;
  }
  bool renew(const std::string&, const std::string& who, const std::string&, std::chrono::milliseconds) override {
    if (!reachable) throw std::runtime_error("unreachable");
    ++renewals;
    std::lock_guard lock(mutex);
    return holder == who;
  }
  void release(const std::string&, const std::string& who) override {
    std::lock_guard lock(mutex);
    if (holder == who) holder.clear();
  }
  std::vector<std::pair<std::string, std::string>> list() override { return {}; }
};

}  // namespace

TEST_CASE("a node lease refuses a name held by another, renews, fences once when it cannot, and is released",
          "[unit][nodes]") {
  FakeRegistry registry;
  QuietLogger logger;
  std::atomic<int> fenced{0};
  std::string why;
  std::mutex why_mutex;
  auto options = [&] {
    return dray::core::NodeLeaseOptions{"a", 150ms, [] { return std::string("{}"); },
                                        [&](const std::string& reason) {
                                          std::lock_guard lock(why_mutex);
                                          why = reason;
                                          ++fenced;
                                        }};
  };
  {
    dray::core::NodeLease lease(registry, options(), logger);
    CHECK_THROWS_AS(dray::core::NodeLease(registry, options(), logger), dray::core::NodeNameTaken);
    REQUIRE(dray::test::waitUntil([&] { return registry.renewals >= 3; }, 5s, 5ms));  // every ttl / 3
    CHECK(fenced == 0);
    registry.reachable = false;  // no renewal for a whole ttl: the running jobs are stopped, once
    REQUIRE(dray::test::waitUntil([&] { return fenced == 1; }, 5s, 5ms));
    std::this_thread::sleep_for(300ms);
    CHECK(fenced == 1);
    {
      std::lock_guard lock(why_mutex);
      CHECK(why.find("node a lost its lease") != std::string::npos);
    }
    registry.reachable = true;  // taken again once reachable (it is still free)
    const int before = registry.renewals;
    REQUIRE(dray::test::waitUntil([&] { return registry.renewals > before; }, 5s, 5ms));
    CHECK(fenced == 1);
  }
  CHECK(registry.holder.empty());  // released when the node stops
}

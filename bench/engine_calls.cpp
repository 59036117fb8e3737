// What the two engine-call savings are worth, each against its "before" measured in the
// same run (rounds interleaved). The "before" rows run the old call sequence with the raw
// client of raw_engine.hpp (no dray code); the "after" rows are dray's runtime plugin:
//  - a new connection per request (before) vs dray's pooled keep-alive sessions;
//  - an image inspect before every step (before) vs dray's known-images cache.
// Every engine answer is checked (200). Prints microseconds per call, p50/p90/spread over
// the rounds, and per-round speed-ups; see bench/README.md.
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <stdexcept>

#include <spdlog/spdlog.h>

#include "bench/raw_engine.hpp"
#include "bench/stats.hpp"
#include "core/spdlog_logger.hpp"
#include "plugins/runtime/docker/docker_client.hpp"
#include "plugins/runtime/docker/docker_runtime.hpp"

namespace {

using namespace dray::plugins::runtime::docker;
using Clock = std::chrono::steady_clock;

constexpr const char* kImage = "dray-test/upper";
constexpr const char* kImagePath = "/images/dray-test/upper/json";
const Poco::Timespan kCallTimeout(30, 0);

int envInt(const char* name, int fallback) {
  const char* value = std::getenv(name);
  return value && *value ? std::atoi(value) : fallback;
}

double microsPerCall(int calls, const std::function<void()>& call) {
  auto start = Clock::now();
  for (int i = 0; i < calls; ++i) call();
  return std::chrono::duration<double, std::micro>(Clock::now() - start).count() / calls;
}

void expectOk(int status, const char* what) {
  if (status != 200) throw std::runtime_error(std::string(what) + ": engine answered " + std::to_string(status));
}

void printRow(const char* path, const std::vector<double>& us, const std::vector<double>& before) {
  const bench::Summary s = bench::summarize(us);
  const bench::Summary r = bench::summarize(bench::ratios(before, us));
  std::printf("%-50s %9.3f %9.3f %6.0f%% %9.3f..%-9.3f %9.2f (%.2f..%.2f)\n", path, s.p50, s.p90, 100 * s.spread(),
              s.min, s.max, r.p50, r.p10, r.p90);
}

}  // namespace

int main() {
  const int rounds = envInt("BENCH_CALL_ROUNDS", 20);
  const int calls = 25;             // engine calls per path per round
  const int cached_calls = 10'000;  // the cache answers in nanoseconds: time many per round
  try {
    const DockerEndpoint endpoint = parseDockerHost("unix:///var/run/docker.sock");
    DockerClient pooled(endpoint);
    dray::core::SpdlogLogger logger(spdlog::default_logger());
    DockerRuntime runtime(endpoint, logger);
    bench::RawEngine raw;

    auto fresh = [&] { expectOk(raw.callOnNewConnection("GET", kImagePath).status, "inspect, new connection"); };
    auto dray_pooled = [&] { expectOk(pooled.request("GET", kImagePath, "", kCallTimeout).status, "inspect, pooled"); };
    auto inspect = [&] { expectOk(raw.call("GET", kImagePath).status, "inspect, keep-alive"); };
    auto cached = [&] { runtime.ensureImage(kImage, false, logger); };
    // Warm up: the connections, the cache.
    fresh();
    dray_pooled();
    inspect();
    cached();

    std::vector<double> fresh_us, pooled_us, inspect_us, cached_us;
    for (int round = 0; round < rounds; ++round) {
      fresh_us.push_back(microsPerCall(calls, fresh));
      pooled_us.push_back(microsPerCall(calls, dray_pooled));
      inspect_us.push_back(microsPerCall(calls, inspect));
      cached_us.push_back(microsPerCall(cached_calls, cached));
    }

    std::printf(
        "engine calls over the unix socket, %d rounds interleaved (%d engine calls per path and round,\n"
        "%d cached ensureImage calls); speed-up = before / after, per round\n",
        rounds, calls, cached_calls);
    std::printf("%-50s %9s %9s %7s %20s %s\n", "path", "p50 us", "p90 us", "spread", "min..max us",
                "speed-up p50 (p10..p90)");
    printRow("before: GET image inspect, new connection (raw)", fresh_us, fresh_us);
    printRow("after:  GET image inspect, dray's pooled session", pooled_us, fresh_us);
    printRow("before: image inspect every step, keep-alive (raw)", inspect_us, inspect_us);
    printRow("after:  dray ensureImage, image known present", cached_us, inspect_us);
    // A 3-step job makes 4 engine calls per step (create, start, wait, remove) + formerly 1 inspect.
    const double fresh50 = bench::summarize(fresh_us).p50, pooled50 = bench::summarize(pooled_us).p50;
    const double inspect50 = bench::summarize(inspect_us).p50, cached50 = bench::summarize(cached_us).p50;
    std::printf("saved per 3-step job (p50s): pooling %.2f ms, inspect cache %.2f ms\n",
                12 * (fresh50 - pooled50) / 1000, 3 * (inspect50 - cached50) / 1000);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "bench_engine_calls: round failed: %s\n", e.what());
    return 2;
  }
  return 0;
}

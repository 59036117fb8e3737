// What the two engine-call savings are worth, each against its own "before" in the same run:
//  - a pooled keep-alive session vs a new connection per request (the engine API calls a
//    step makes: create, start, wait, remove, and formerly an image inspect);
//  - the known-images cache vs an image inspect before every step.
// Prints microseconds per call and ratios; see bench/README.md.
#include <chrono>
#include <cstdio>
#include <functional>

#include <spdlog/spdlog.h>

#include "docker_client.hpp"
#include "docker_runtime.hpp"
#include "spdlog_logger.hpp"

namespace {

using namespace dray::plugins::runtime::docker;
using Clock = std::chrono::steady_clock;

constexpr int kCalls = 500;
constexpr const char* kImagePath = "/images/dray-test/upper/json";

double microsPerCall(const std::function<void()>& call) {
  call();  // warm up
  auto start = Clock::now();
  for (int i = 0; i < kCalls; ++i) call();
  return std::chrono::duration<double, std::micro>(Clock::now() - start).count() / kCalls;
}

void expectOk(const DockerResponse& response) {
  if (response.status != 200) throw std::runtime_error("engine answered " + std::to_string(response.status));
}

}  // namespace

const Poco::Timespan kCallTimeout(30, 0);

int main() {
  const DockerEndpoint endpoint = parseDockerHost("unix:///var/run/docker.sock");
  DockerClient pooled(endpoint);
  const double fresh_us = microsPerCall([&] { expectOk(DockerClient(endpoint).request("GET", kImagePath, "", kCallTimeout)); });
  const double pooled_us = microsPerCall([&] { expectOk(pooled.request("GET", kImagePath, "", kCallTimeout)); });

  dray::core::SpdlogLogger logger(spdlog::default_logger());
  DockerRuntime runtime(endpoint, logger);
  const double inspect_us = pooled_us;  // what ensureImage cost per step before the cache
  const double cached_us = microsPerCall([&] { runtime.ensureImage("dray-test/upper", false, logger); });

  std::printf("engine calls, %d each, unix socket\n", kCalls);
  std::printf("%-52s %10s %8s\n", "path", "us/call", "ratio");
  std::printf("%-52s %10.3f %8.2f\n", "GET image inspect, new connection per call (before)", fresh_us, 1.0);
  std::printf("%-52s %10.3f %8.2f\n", "GET image inspect, pooled keep-alive session", pooled_us, fresh_us / pooled_us);
  std::printf("%-52s %10.3f %8.2f\n", "ensureImage with an inspect every step (before)", inspect_us, 1.0);
  std::printf("%-52s %10.3f %8.0f\n", "ensureImage, image known present", cached_us, inspect_us / cached_us);
  // A 3-step job makes 4 pooled calls per step (create, start, wait, remove) + 1 inspect.
  std::printf("saved per 3-step job: pooling %.2f ms, inspect cache %.2f ms\n", 12 * (fresh_us - pooled_us) / 1000,
              3 * (inspect_us - cached_us) / 1000);
  return 0;
}

// The engine-API floor for the Word Job: randword -> upper -> reverse run back to back with
// the bare runtime (create, attach, start, stream, wait, remove; no dray core, no HTTP, no
// storage). Prints one latency in milliseconds per run.
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>

#include <spdlog/spdlog.h>

#include "docker_runtime.hpp"
#include "spdlog_logger.hpp"
#include "spool.hpp"

namespace {

using namespace dray;

class NoHook final : public sdk::ExitHook {
 public:
  void afterExit(int, sdk::ContainerFiles&) override {}
};

}  // namespace

int main(int argc, char** argv) {
  const int runs = argc > 1 ? std::atoi(argv[1]) : 10;
  if (std::getenv("BENCH_DEBUG")) spdlog::set_level(spdlog::level::debug);
  core::SpdlogLogger logger(spdlog::default_logger());
  plugins::runtime::docker::DockerRuntime runtime(plugins::runtime::docker::parseDockerHost("unix:///var/run/docker.sock"),
                                                  logger);
  for (int run = 0; run < runs; ++run) {
    auto start = std::chrono::steady_clock::now();
    // Spools carry the data between steps, as in dray, but nothing else of dray runs.
    std::unique_ptr<core::Spool> previous;
    std::unique_ptr<sdk::ByteSource> input = std::make_unique<core::EmptySource>();
    for (const char* image : {"dray-test/randword", "dray-test/upper", "dray-test/reverse"}) {
      sdk::ContainerSpec spec;
      spec.image = image;
      spec.labels = {{"dray.bench", "floor"}};
      auto output = std::make_unique<core::Spool>(1 << 20);
      core::Spool err(1 << 20);
      NoHook hook;
      sdk::RunIo io{*input, *output, err};
      if (runtime.run(spec, io, hook, {}) != 0) return 1;
      input = output->reader();
      previous = std::move(output);
    }
    auto ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
    std::printf("%.1f\n", ms);
  }
  return 0;
}

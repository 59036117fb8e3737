// The engine-API floor for the Word Job, randword -> upper -> reverse, run by the raw client
// of raw_engine.hpp (nothing of dray): per step create, attach, start, stream, wait, remove,
// each step's output becoming the next one's input. Every run checks each step's exit code
// and exact output, and fails the benchmark (exit 1) otherwise: a failed run must not look fast.
//
//   bench_api_floor [runs]                    latency: one line of milliseconds per run
//   bench_api_floor --workers W --jobs J      throughput: J jobs on W threads, prints seconds
//                                             from the first job's start to the last one's end
// BENCH_DEBUG=1 prints each step's phases (create, attach, start, stream, wait, remove) in ms.
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "bench/raw_engine.hpp"

namespace {

using Clock = std::chrono::steady_clock;

struct Step {
  const char* image;
  const char* expected_out;
};

// randword prints five fixed words; the others upper-case and reverse each line.
constexpr Step kWordJob[] = {
    {"dray-test/randword", "alpha\nbravo\ncharlie\ndelta\necho\n"},
    {"dray-test/upper", "ALPHA\nBRAVO\nCHARLIE\nDELTA\nECHO\n"},
    {"dray-test/reverse", "AHPLA\nOVARB\nEILRAHC\nATLED\nOHCE\n"},
};

void runWordJob(bench::RawEngine& engine, bool debug) {
  std::string input;
  for (const Step& step : kWordJob) {
    bench::StepResult result = engine.runStep(step.image, {}, input);
    if (debug) {
      const bench::StepPhases& p = engine.lastPhases();
      std::fprintf(stderr, "%-20s create %6.1f attach %5.1f start %6.1f stream %6.1f wait %5.1f remove %5.1f ms\n",
                   step.image, p.create, p.attach, p.start, p.stream, p.wait, p.remove);
    }
    if (result.exit_code != 0) {
      throw std::runtime_error(std::string(step.image) + " exited with " + std::to_string(result.exit_code));
    }
    if (result.out != step.expected_out || !result.err.empty()) {
      throw std::runtime_error(std::string(step.image) + " wrote unexpected output: [" + result.out + "] stderr [" +
                               result.err + "]");
    }
    input = std::move(result.out);
  }
}

int latency(int runs, bool debug) {
  bench::RawEngine engine;
  for (int run = 0; run < runs; ++run) {
    auto start = Clock::now();
    runWordJob(engine, debug);
    std::printf("%.1f\n", std::chrono::duration<double, std::milli>(Clock::now() - start).count());
    std::fflush(stdout);
  }
  return 0;
}

int throughput(int workers, int jobs, bool debug) {
  std::atomic<int> next{0};
  std::mutex failure_mutex;
  std::string failure;
  auto start = Clock::now();
  std::vector<std::thread> threads;
  for (int w = 0; w < workers; ++w) {
    threads.emplace_back([&] {
      bench::RawEngine engine;  // one client (and session) per worker, as dray has
      try {
        while (next.fetch_add(1) < jobs) runWordJob(engine, debug);
      } catch (const std::exception& e) {
        std::lock_guard lock(failure_mutex);
        failure = e.what();
        next = jobs;  // stop the others
      }
    });
  }
  for (auto& thread : threads) thread.join();
  if (!failure.empty()) throw std::runtime_error(failure);
  std::printf("%.3f\n", std::chrono::duration<double>(Clock::now() - start).count());
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  const bool debug = std::getenv("BENCH_DEBUG") != nullptr;
  try {
    if (argc == 5 && std::strcmp(argv[1], "--workers") == 0 && std::strcmp(argv[3], "--jobs") == 0) {
      return throughput(std::atoi(argv[2]), std::atoi(argv[4]), debug);
    }
    return latency(argc > 1 ? std::atoi(argv[1]) : 10, debug);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "bench_api_floor: run failed: %s\n", e.what());
    return 1;
  }
}

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

namespace {

using namespace dray;

class StringSink final : public sdk::ByteSink {
 public:
  void write(std::string_view chunk) override { data.append(chunk); }
  std::string data;
};

class StringSource final : public sdk::ByteSource {
 public:
  explicit StringSource(std::string data) : data_(std::move(data)) {}
  std::size_t read(char* buffer, std::size_t capacity) override {
    std::size_t n = std::min(capacity, data_.size() - offset_);
    data_.copy(buffer, n, offset_);
    offset_ += n;
    return n;
  }

 private:
  std::string data_;
  std::size_t offset_ = 0;
};

class NoHook final : public sdk::ExitHook {
 public:
  void afterExit(int, sdk::ContainerFiles&) override {}
};

}  // namespace

int main(int argc, char** argv) {
  const int runs = argc > 1 ? std::atoi(argv[1]) : 10;
  core::SpdlogLogger logger(spdlog::default_logger());
  plugins::runtime::docker::DockerRuntime runtime(plugins::runtime::docker::parseDockerHost("unix:///var/run/docker.sock"),
                                                  logger);
  for (int run = 0; run < runs; ++run) {
    auto start = std::chrono::steady_clock::now();
    std::string data;
    for (const char* image : {"dray-test/randword", "dray-test/upper", "dray-test/reverse"}) {
      sdk::ContainerSpec spec;
      spec.image = image;
      spec.labels = {{"dray.bench", "floor"}};
      StringSource in(data);
      StringSink out, err;
      NoHook hook;
      sdk::RunIo io{in, out, err};
      if (runtime.run(spec, io, hook, {}) != 0) return 1;
      data = std::move(out.data);
    }
    auto ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
    std::printf("%.1f\n", ms);
  }
  return 0;
}

#pragma once

// A scripted sdk::Runtime for core and API unit tests: each image name maps to a
// behaviour; every call is recorded. No Docker involved.
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <vector>

#include "dray/sdk/errors.hpp"
#include "dray/sdk/runtime.hpp"
#include "tests/fakes/string_streams.hpp"

namespace dray::test {

/// Files a fake container "wrote", served to captures after exit.
class FakeContainerFiles final : public sdk::ContainerFiles {
 public:
  explicit FakeContainerFiles(std::map<std::string, std::string> files) : files_(std::move(files)) {}
  bool copyFileOut(const std::string& path, sdk::ByteSink& sink) override {
    auto it = files_.find(path);
    if (it == files_.end()) return false;
    sink.write(it->second);
    return true;
  }

 private:
  std::map<std::string, std::string> files_;
};

/// What a fake step does with its stdin; returns the exit code.
struct FakeStepResult {
  std::string out;
  std::string err;
  int exit_code = 0;
  std::map<std::string, std::string> files;
  bool oom_killed = false;
};
using FakeBehaviour = std::function<FakeStepResult(const std::string& stdin_data, const sdk::ContainerSpec& spec)>;

class FakeRuntime final : public sdk::Runtime {
 public:
  void define(const std::string& image, FakeBehaviour behaviour) { behaviours_[image] = std::move(behaviour); }

  /// Core hands runtimes normalised references (docker.io/library/words:latest); the fake
  /// knows images by the short names tests define them with.
  static std::string shortName(std::string image) {
    for (const char* prefix : {"docker.io/library/", "docker.io/"}) {
      if (image.rfind(prefix, 0) == 0) {
        image.erase(0, std::string(prefix).size());
        break;
      }
    }
    if (image.size() > 7 && image.compare(image.size() - 7, 7, ":latest") == 0) image.resize(image.size() - 7);
    return image;
  }

  void ensureImage(const std::string& full_image, bool refresh, sdk::Logger& job_log, std::stop_token = {}) override {
    const std::string image = shortName(full_image);
    std::lock_guard lock(mutex_);
    if (refresh) {
      pulls_.push_back(image);
      job_log.info("pulling image " + image);
    }
    if (!behaviours_.count(image)) throw sdk::ImageUnavailable("cannot pull image " + image + ": not found");
  }

  sdk::PreparedContainerPtr prepare(const sdk::ContainerSpec& full_spec, std::stop_token = {}) override {
    sdk::ContainerSpec spec = full_spec;
    spec.image = shortName(spec.image);
    std::lock_guard lock(mutex_);
    prepared_.push_back(spec.image);
    ++alive_;
    return std::make_unique<Prepared>(*this, spec);
  }

  std::vector<std::string> listLabelled(const std::string&) override { return {}; }
  bool remove(const std::string&) override { return true; }

  /// Containers that ran, in start order.
  std::vector<sdk::ContainerSpec> runs() const {
    std::lock_guard lock(mutex_);
    return runs_;
  }
  /// Images of every container prepared, in order (run or not).
  std::vector<std::string> prepared() const {
    std::lock_guard lock(mutex_);
    return prepared_;
  }
  /// Prepared containers not destroyed yet (a real runtime would still hold them).
  int alive() const {
    std::lock_guard lock(mutex_);
    return alive_;
  }
  std::vector<std::string> pulls() const {
    std::lock_guard lock(mutex_);
    return pulls_;
  }

 private:
  class Prepared final : public sdk::PreparedContainer {
   public:
    Prepared(FakeRuntime& runtime, sdk::ContainerSpec spec) : runtime_(runtime), spec_(std::move(spec)) {}
    ~Prepared() override {
      std::lock_guard lock(runtime_.mutex_);
      --runtime_.alive_;
    }
    sdk::ContainerExit run(sdk::RunIo& io, sdk::ExitHook& hook, std::stop_token) override {
      {
        std::lock_guard lock(runtime_.mutex_);
        runtime_.runs_.push_back(spec_);
      }
      std::string input = drain(io.stdin_source);
      FakeStepResult result = runtime_.behaviours_.at(spec_.image)(input, spec_);
      io.stdout_sink.write(result.out);
      io.stderr_sink.write(result.err);
      FakeContainerFiles files(result.files);
      hook.afterExit(result.exit_code, files);
      return {result.exit_code, result.oom_killed};
    }

   private:
    FakeRuntime& runtime_;
    sdk::ContainerSpec spec_;
  };

  std::map<std::string, FakeBehaviour> behaviours_;
  mutable std::mutex mutex_;
  std::vector<sdk::ContainerSpec> runs_;
  std::vector<std::string> prepared_;
  std::vector<std::string> pulls_;
  int alive_ = 0;
};

}  // namespace dray::test

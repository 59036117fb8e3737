#include "core/step_executor.hpp"

#include <stdexcept>

namespace dray::core {
namespace {

// Every chunk of one container stream goes to the job log and to the capture.
class StreamTap final : public sdk::ByteSink {
 public:
  StreamTap(JobLogWriter& log, sdk::Capture& capture, bool is_stdout)
      : log_(log), capture_(capture), is_stdout_(is_stdout) {}

  void write(std::string_view chunk) override {
    if (is_stdout_) {
      log_.onStdout(chunk);
      capture_.onStdout(chunk);
    } else {
      log_.onStderr(chunk);
      capture_.onStderr(chunk);
    }
  }

 private:
  JobLogWriter& log_;
  sdk::Capture& capture_;
  bool is_stdout_;
};

// Lets the capture copy files out only after a successful exit.
class CaptureExitHook final : public sdk::ExitHook {
 public:
  explicit CaptureExitHook(sdk::Capture& capture) : capture_(capture) {}
  void afterExit(int exit_code, sdk::ContainerFiles& files) override {
    if (exit_code == 0) capture_.afterExit(files);
  }

 private:
  sdk::Capture& capture_;
};

}  // namespace

sdk::ContainerSpec StepExecutor::containerFor(const sdk::StepSpec& step) const {
  sdk::ContainerSpec spec;
  spec.image = step.image;
  for (const auto& var : step.env) spec.env.push_back(var.name + "=" + var.value);
  spec.labels[kJobLabel] = step.job_id;
  spec.labels[kStepLabel] = std::to_string(step.index);
  spec.labels[kInstanceLabel] = instance_;
  spec.resources = step.resources;
  return spec;
}

std::unique_ptr<PreparedStep> StepExecutor::prepare(const ResolvedStep& step, std::size_t spool_memory,
                                                    std::stop_token stop, const SecretMasker* masker,
                                                    sdk::ByteSink* passed_to) const {
  auto prepared = std::make_unique<PreparedStep>(storage_, step.spec.job_id, spool_memory, masker);
  prepared->index_ = step.spec.index;
  try {
    runtime_->ensureImage(step.spec.image, step.spec.refresh, prepared->log_, stop);
    sdk::ByteSink* next = passed_to ? passed_to : prepared->output_.get();
    if (!step.begin_delimiter.empty()) {
      next = &prepared->delimited_.emplace(*next, step.begin_delimiter, step.end_delimiter);
    }
    prepared->capture_ = {step.channel->open(step.spec, *next, prepared->log_), step.channel};
    sdk::ContainerSpec container = containerFor(step.spec);
    prepared->capture_->prepare(container);
    // The image was checked against the allow-list and the resources against the server's
    // ceilings (and the host-network permission): a channel must not change either.
    if (container.image != step.spec.image) {
      throw std::runtime_error("output channel for '" + step.spec.output + "' changed the step's image; refused");
    }
    if (container.resources != step.spec.resources) {
      throw std::runtime_error("output channel for '" + step.spec.output + "' changed the step's resources; refused");
    }
    if (!stop.stop_requested()) prepared->container_ = {runtime_->prepare(container, stop), runtime_};
  } catch (...) {
    prepared->failure_ = std::current_exception();
  }
  return prepared;
}

sdk::ContainerExit StepExecutor::run(PreparedStep& step, sdk::ByteSource& input, std::stop_token stop,
                                     JobLogBudget& log_budget) const {
  step.log_.release();
  if (step.failure_) std::rethrow_exception(step.failure_);
  if (!step.container_) throw std::runtime_error("stopped before its container was created");
  const std::string& job_id = step.log_.jobId();
  JobLogWriter log(storage_, job_id, log_budget, step.log_.masker());
  StreamTap out(log, *step.capture_, true);
  StreamTap err(log, *step.capture_, false);
  CaptureExitHook hook(*step.capture_);
  sdk::RunIo io{input, out, err};
  const sdk::ContainerExit exit = step.container_->run(io, hook, stop);
  const int exit_code = exit.code;
  log.finish();
  if (step.delimited_) {
    step.delimited_->finish();
    // Explains an empty (or uncut) next input; the job still completes, as it always did.
    const std::string notice = step.delimited_->missingMarkerNotice("step " + std::to_string(step.index_ + 1));
    if (exit_code == 0 && !notice.empty()) step.log_.warn(notice);
  }
  return exit;
}

}  // namespace dray::core

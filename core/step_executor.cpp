#include "step_executor.hpp"

#include <optional>

#include "delimited_sink.hpp"

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
  return spec;
}

int StepExecutor::run(const ResolvedStep& step, sdk::ByteSource& input, Spool& output, std::stop_token stop,
                      JobLogBudget& log_budget) {
  JobLogger job_log(storage_, step.spec.job_id);
  runtime_.ensureImage(step.spec.image, step.spec.refresh, job_log);

  std::optional<DelimitedSink> delimited;
  sdk::ByteSink* next = &output;
  if (!step.begin_delimiter.empty()) next = &delimited.emplace(output, step.begin_delimiter, step.end_delimiter);

  sdk::CapturePtr capture = step.channel->open(step.spec, *next, job_log);
  sdk::ContainerSpec container = containerFor(step.spec);
  capture->prepare(container);

  JobLogWriter log(storage_, step.spec.job_id, log_budget);
  StreamTap out(log, *capture, true);
  StreamTap err(log, *capture, false);
  CaptureExitHook hook(*capture);
  sdk::RunIo io{input, out, err};
  int exit_code = runtime_.run(container, io, hook, stop);
  log.finish();
  if (delimited) delimited->finish();
  return exit_code;
}

}  // namespace dray::core

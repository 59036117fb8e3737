#pragma once

#include "dray/sdk/output_channel.hpp"

namespace dray::plugins::output::file {

/// Passes a file the step wrote inside its container on to the next step. Accepts a
/// normalised absolute path ("/out/result.txt": no "." or ".." segments, no empty ones).
/// The file is copied out of the exited container through the runtime, so no host
/// directory is shared (works when dray itself runs in a container). A missing file gives
/// empty output and a job log line; a path that is not a regular file (directory, device,
/// FIFO) fails the step: the runtime's copyFileOut throws a PluginError naming it, which
/// the capture lets through. Stateless: safe from any worker thread.
class FileChannel final : public sdk::OutputChannel {
 public:
  bool accepts(std::string_view output) const override;
  sdk::CapturePtr open(const sdk::StepSpec& step, sdk::ByteSink& next, sdk::Logger& job_log) override;
};

/// True for "/a/b" style paths as described above.
bool isPlainAbsolutePath(std::string_view path);

}  // namespace dray::plugins::output::file

#pragma once

#include "dray/sdk/output_channel.hpp"

namespace dray::plugins::output {

/// Which container stream a StreamCapture passes on.
enum class Stream { kStdout, kStderr };

/// Passes one container stream to the next step, chunk by chunk, and ignores the other.
/// Shared by the stdout and stderr channels; holds no state beyond the sink.
class StreamCapture final : public sdk::Capture {
 public:
  StreamCapture(Stream stream, sdk::ByteSink& next) : stream_(stream), next_(next) {}

  void onStdout(std::string_view chunk) override {
    if (stream_ == Stream::kStdout) next_.write(chunk);
  }
  void onStderr(std::string_view chunk) override {
    if (stream_ == Stream::kStderr) next_.write(chunk);
  }
  void afterExit(sdk::ContainerFiles&) override {}

 private:
  Stream stream_;
  sdk::ByteSink& next_;
};

}  // namespace dray::plugins::output

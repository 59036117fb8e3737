#include "stderr_channel.hpp"

#include "stream_capture.hpp"

namespace dray::plugins::output::stderr {

sdk::CapturePtr StderrChannel::open(const sdk::StepSpec&, sdk::ByteSink& next, sdk::Logger&) {
  return std::make_unique<StreamCapture>(Stream::kStderr, next);
}

}  // namespace dray::plugins::output::stderr

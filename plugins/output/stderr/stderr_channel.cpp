#include "plugins/output/stderr/stderr_channel.hpp"

#include "plugins/output/common/stream_capture.hpp"

namespace dray::plugins::output::stderr {

sdk::CapturePtr StderrChannel::open(const sdk::StepSpec&, sdk::ByteSink& next, sdk::Logger&) {
  return std::make_unique<StreamCapture>(Stream::kStderr, next);
}

}  // namespace dray::plugins::output::stderr

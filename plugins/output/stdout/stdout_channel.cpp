#include "plugins/output/stdout/stdout_channel.hpp"

#include "plugins/output/common/stream_capture.hpp"

namespace dray::plugins::output::stdout {

sdk::CapturePtr StdoutChannel::open(const sdk::StepSpec&, sdk::ByteSink& next, sdk::Logger&) {
  return std::make_unique<StreamCapture>(Stream::kStdout, next);
}

}  // namespace dray::plugins::output::stdout

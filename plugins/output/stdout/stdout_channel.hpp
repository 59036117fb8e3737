#pragma once

#include "dray/sdk/output_channel.hpp"

namespace dray::plugins::output::stdout {

/// Passes the step's stdout on to the next step. Accepts exactly "stdout".
/// Stateless: safe to call from any worker thread.
class StdoutChannel final : public sdk::OutputChannel {
 public:
  bool accepts(std::string_view output) const override { return output == "stdout"; }
  sdk::CapturePtr open(const sdk::StepSpec& step, sdk::ByteSink& next, sdk::Logger& job_log) override;
};

}  // namespace dray::plugins::output::stdout

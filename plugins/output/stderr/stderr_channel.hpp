#pragma once

#include "dray/sdk/output_channel.hpp"

namespace dray::plugins::output::stderr {

/// Passes the step's stderr on to the next step. Accepts exactly "stderr".
/// Stateless: safe to call from any worker thread.
class StderrChannel final : public sdk::OutputChannel {
 public:
  bool accepts(std::string_view output) const override { return output == "stderr"; }
  sdk::CapturePtr open(const sdk::StepSpec& step, sdk::ByteSink& next, sdk::Logger& job_log) override;
};

}  // namespace dray::plugins::output::stderr

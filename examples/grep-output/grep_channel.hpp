#pragma once

#include <string_view>

#include "dray/sdk/output_channel.hpp"

namespace dray::examples::grep {

/// Output "grep:<regex>": passes on only the stdout lines matching the ECMAScript regex
/// (anywhere in the line, like grep), each followed by '\n'. stderr is only logged.
/// accepts() is false for an invalid regex, so such a job is refused with 400.
/// Stateless: safe from any worker thread.
class GrepChannel final : public sdk::OutputChannel {
 public:
  bool accepts(std::string_view output) const override;
  sdk::CapturePtr open(const sdk::StepSpec& step, sdk::ByteSink& next, sdk::Logger& job_log) override;
};

}  // namespace dray::examples::grep

#include "grep_channel.hpp"

#include <regex>
#include <string>

namespace dray::examples::grep {
namespace {

constexpr std::string_view kPrefix = "grep:";
constexpr std::size_t kMaxLine = 1 << 20;  // a longer line is matched in pieces: memory stays bounded

class GrepCapture final : public sdk::Capture {
 public:
  GrepCapture(std::regex pattern, sdk::ByteSink& next) : pattern_(std::move(pattern)), next_(next) {}

  void onStdout(std::string_view chunk) override {
    for (std::size_t newline; (newline = chunk.find('\n')) != std::string_view::npos;) {
      line_.append(chunk.substr(0, newline));
      emit();
      chunk.remove_prefix(newline + 1);
    }
    line_.append(chunk);
    if (line_.size() >= kMaxLine) emit();
  }

  void onStderr(std::string_view) override {}

  // A last line without '\n' still counts.
  void afterExit(sdk::ContainerFiles&) override {
    if (!line_.empty()) emit();
  }

 private:
  void emit() {
    if (std::regex_search(line_, pattern_)) {
      line_.push_back('\n');
      next_.write(line_);
    }
    line_.clear();
  }

  std::regex pattern_;
  sdk::ByteSink& next_;
  std::string line_;
};

}  // namespace

bool GrepChannel::accepts(std::string_view output) const {
  if (output.substr(0, kPrefix.size()) != kPrefix || output.size() == kPrefix.size()) return false;
  try {
    std::regex(std::string(output.substr(kPrefix.size())));
    return true;
  } catch (const std::regex_error&) {
    return false;
  }
}

sdk::CapturePtr GrepChannel::open(const sdk::StepSpec& step, sdk::ByteSink& next, sdk::Logger&) {
  return std::make_unique<GrepCapture>(std::regex(step.output.substr(kPrefix.size())), next);
}

}  // namespace dray::examples::grep

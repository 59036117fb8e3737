// A third-party style output channel: "shout" passes stdout on upper-cased.
#include <cctype>
#include <string>

#include "dray/sdk/export.hpp"
#include "dray/sdk/output_channel.hpp"

namespace {

class ShoutCapture final : public dray::sdk::Capture {
 public:
  explicit ShoutCapture(dray::sdk::ByteSink& next) : next_(next) {}
  void onStdout(std::string_view chunk) override {
    std::string loud(chunk);
    for (auto& c : loud) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    next_.write(loud);
  }
  void onStderr(std::string_view) override {}
  void afterExit(dray::sdk::ContainerFiles&) override {}

 private:
  dray::sdk::ByteSink& next_;
};

class ShoutChannel final : public dray::sdk::OutputChannel {
 public:
  bool accepts(std::string_view output) const override { return output == "shout"; }
  dray::sdk::CapturePtr open(const dray::sdk::StepSpec&, dray::sdk::ByteSink& next, dray::sdk::Logger&) override {
    return std::make_unique<ShoutCapture>(next);
  }
};

dray::sdk::Plugin* create(const dray::sdk::PluginContext&) { return new ShoutChannel(); }

}  // namespace

DRAY_PLUGIN(output, "shout", "1.0.0", "passes stdout on upper-cased", dray::sdk::OptionList{}, create)

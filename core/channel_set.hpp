#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "dray/sdk/output_channel.hpp"

namespace dray::core {

/// The output channels that were loaded, asked in name order which one handles a spec.
class ChannelSet {
 public:
  void add(std::string name, std::shared_ptr<sdk::OutputChannel> channel);

  /// The channel accepting `output`, or nullptr. Safe to call from any thread once built.
  std::shared_ptr<sdk::OutputChannel> find(std::string_view output) const;

  std::vector<std::string> names() const;

  /// The name a channel was added under, or "" for an unknown pointer.
  std::string nameOf(const sdk::OutputChannel* channel) const;

 private:
  std::vector<std::pair<std::string, std::shared_ptr<sdk::OutputChannel>>> channels_;
};

}  // namespace dray::core

#include "core/channel_set.hpp"

#include <algorithm>

namespace dray::core {

void ChannelSet::add(std::string name, std::shared_ptr<sdk::OutputChannel> channel) {
  channels_.emplace_back(std::move(name), std::move(channel));
  std::sort(channels_.begin(), channels_.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
}

std::shared_ptr<sdk::OutputChannel> ChannelSet::find(std::string_view output) const {
  for (const auto& [name, channel] : channels_) {
    try {
      if (channel->accepts(output)) return channel;
    } catch (const std::exception&) {
      // A channel that throws from accepts() simply does not accept.
    }
  }
  return nullptr;
}

std::vector<std::string> ChannelSet::names() const {
  std::vector<std::string> result;
  for (const auto& entry : channels_) result.push_back(entry.first);
  return result;
}

std::string ChannelSet::nameOf(const sdk::OutputChannel* channel) const {
  for (const auto& [name, candidate] : channels_) {
    if (candidate.get() == channel) return name;
  }
  return "";
}

}  // namespace dray::core

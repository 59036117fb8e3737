#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <string>
#include <string_view>

namespace Poco::JSON {
class Object;
}

namespace dray::plugins::runtime::docker {

/// Reads the engine's pull stream (one JSON object a line: "Pulling fs layer",
/// "Downloading" with byte counts, "Pull complete", … per layer, or "error") and boils it
/// down to a few job log lines: the engine sends several events a second per layer, a user
/// wants to see that the pull moves on. Not thread-safe: one per pull.
class PullProgress {
 public:
  using Clock = std::chrono::steady_clock;

  /// `interval`: the least time between two progress lines.
  PullProgress(std::string image, Clock::time_point started, std::chrono::milliseconds interval);

  /// Takes one line of the stream. Returns a progress line for the job log ("pulling image
  /// X: 1 of 3 layers done, 2.5 of 4.0 MB downloaded") when `interval` passed since the last
  /// one and a layer moved on; else an empty string.
  std::string feed(std::string_view line, Clock::time_point now);

  /// The engine's error, when the stream carried one ("unauthorized: authentication required").
  const std::string& error() const { return error_; }

  /// The closing line: "pulled image X in 1.2 s: 1 layer downloaded (4.0 MB), 2 already present".
  std::string summary(Clock::time_point now) const;

 private:
  struct Layer {
    std::int64_t current = 0;  // bytes downloaded
    std::int64_t total = 0;    // 0 until the engine says
    bool downloaded = false;
    bool done = false;     // extracted, or already present
    bool present = false;  // already there before the pull
  };
  std::string take(const Poco::JSON::Object& event, Clock::time_point now);
  std::string progressLine() const;

  std::string image_;
  Clock::time_point started_;
  Clock::time_point last_line_;
  std::chrono::milliseconds interval_;
  std::map<std::string, Layer> layers_;
  std::string error_;
};

}  // namespace dray::plugins::runtime::docker

#pragma once

// Reads Server-Sent Events from a stream as the SSE spec says: `field: value` lines, comment
// lines starting with ':', a blank line ends an event. Shared by dray-cli and the tests.
#include <istream>
#include <optional>
#include <string>

namespace dray::cli {

struct SseEvent {
  std::string event = "message";
  std::string data;
  std::optional<std::string> id;
};

class SseReader {
 public:
  explicit SseReader(std::istream& in) : in_(in) {}

  /// The next event, or nullopt when the stream ended (or broke: see broken()).
  std::optional<SseEvent> next() {
    SseEvent event;
    bool any = false;
    std::string line;
    while (std::getline(in_, line)) {
      if (!line.empty() && line.back() == '\r') line.pop_back();
      if (line.empty()) {
        if (any) return event;
        continue;  // a blank line with nothing before it dispatches nothing
      }
      if (line.front() == ':') {
        ++comments_;
        continue;
      }
      const auto colon = line.find(':');
      const std::string field = line.substr(0, colon);
      std::string value = colon == std::string::npos ? "" : line.substr(colon + 1);
      if (!value.empty() && value.front() == ' ') value.erase(0, 1);
      if (field == "event") {
        event.event = value;
        any = true;
      } else if (field == "data") {
        if (!event.data.empty()) event.data += '\n';
        event.data += value;
        any = true;
      } else if (field == "id") {
        event.id = value;
        any = true;
      } else if (field == "retry" && !value.empty() && value.find_first_not_of("0123456789") == std::string::npos) {
        retry_ms_ = std::stol(value);
      }
    }
    return std::nullopt;
  }

  /// The stream failed (a timeout or a reset) rather than ended.
  bool broken() const { return in_.bad(); }
  std::size_t comments() const { return comments_; }
  long retryMs() const { return retry_ms_; }

 private:
  std::istream& in_;
  std::size_t comments_ = 0;
  long retry_ms_ = 0;
};

}  // namespace dray::cli

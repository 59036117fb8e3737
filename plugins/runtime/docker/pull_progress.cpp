#include "plugins/runtime/docker/pull_progress.hpp"

#include <cstdio>
#include <set>

#include <Poco/JSON/Object.h>
#include <Poco/JSON/Parser.h>

namespace dray::plugins::runtime::docker {
namespace {

// The per-layer statuses of the engine's pull stream; other lines ("Pulling from …",
// "Digest: …", "Status: …") also carry an id or none, but are not layers.
const std::set<std::string, std::less<>> kLayerStatuses = {"Pulling fs layer",   "Waiting",           "Downloading",
                                                           "Verifying Checksum", "Download complete", "Extracting",
                                                           "Pull complete",      "Already exists",    "Retrying"};

std::string decimal(double value) {
  char text[32];
  std::snprintf(text, sizeof text, "%.1f", value);
  return text;
}

std::string megabytes(std::int64_t bytes) { return decimal(static_cast<double>(bytes) / 1e6); }

std::string plural(std::size_t count, const char* noun) {
  return std::to_string(count) + " " + noun + (count == 1 ? "" : "s");
}

}  // namespace

PullProgress::PullProgress(std::string image, Clock::time_point started, std::chrono::milliseconds interval)
    : image_(std::move(image)), started_(started), last_line_(started), interval_(interval) {}

std::string PullProgress::feed(std::string_view line, Clock::time_point now) {
  try {
    Poco::JSON::Parser parser;
    auto event = parser.parse(std::string(line)).extract<Poco::JSON::Object::Ptr>();
    return event ? take(*event, now) : "";
  } catch (const std::exception&) {
    // Not JSON, or not the shape we know: nothing to count, but a failure is never lost.
    if (error_.empty() && line.find("\"error\"") != std::string_view::npos) error_ = std::string(line);
    return "";
  }
}

std::string PullProgress::take(const Poco::JSON::Object& event, Clock::time_point now) {
  if (event.has("error")) {
    error_ = event.get("error").toString();
    return "";
  }
  const std::string status = event.optValue<std::string>("status", "");
  const std::string id = event.optValue<std::string>("id", "");
  // "Retrying in 5 seconds" carries the wait in its text.
  const std::string kind = status.rfind("Retrying", 0) == 0 ? "Retrying" : status;
  if (id.empty() || !kLayerStatuses.count(kind)) return "";
  Layer& layer = layers_[id];
  if (kind == "Downloading") {
    if (auto detail = event.getObject("progressDetail")) {
      layer.current = detail->optValue<std::int64_t>("current", layer.current);
      layer.total = detail->optValue<std::int64_t>("total", layer.total);
    }
  } else if (kind == "Download complete") {
    layer.downloaded = true;
    if (layer.total > 0) layer.current = layer.total;
  } else if (kind == "Pull complete") {
    layer.downloaded = layer.done = true;
    if (layer.total > 0) layer.current = layer.total;
  } else if (kind == "Already exists") {
    layer.done = layer.present = true;
  }
  if (now - last_line_ < interval_) return "";
  last_line_ = now;
  return progressLine();
}

std::string PullProgress::progressLine() const {
  std::size_t done = 0;
  std::int64_t current = 0, total = 0;
  bool totals_known = true;
  for (const auto& [id, layer] : layers_) {
    if (layer.done) ++done;
    if (layer.present) continue;
    current += layer.current;
    total += layer.total;
    if (layer.total == 0) totals_known = false;
  }
  std::string line = "pulling image " + image_ + ": " + std::to_string(done) + " of " +
                     plural(layers_.size(), "layer") + " done, " + megabytes(current);
  if (totals_known && total > 0) line += " of " + megabytes(total);
  return line + " MB downloaded";
}

std::string PullProgress::summary(Clock::time_point now) const {
  std::size_t downloaded = 0, present = 0;
  std::int64_t bytes = 0;
  for (const auto& [id, layer] : layers_) {
    if (layer.present) {
      ++present;
    } else {
      ++downloaded;
      bytes += layer.current;
    }
  }
  const std::chrono::duration<double> took = now - started_;
  std::string line = "pulled image " + image_ + " in " + decimal(took.count()) + " s: ";
  if (downloaded == 0 && present == 0) return line + "nothing new to download";
  line += plural(downloaded, "layer") + " downloaded (" + megabytes(bytes) + " MB)";
  if (present > 0) line += ", " + std::to_string(present) + " already present";
  return line;
}

}  // namespace dray::plugins::runtime::docker

#pragma once

// In-memory ByteSink/ByteSource/Logger for tests.
#include <cstring>
#include <mutex>
#include <string>
#include <vector>

#include "dray/sdk/log.hpp"
#include "dray/sdk/stream.hpp"

namespace dray::test {

class StringSink final : public sdk::ByteSink {
 public:
  void write(std::string_view chunk) override {
    data.append(chunk);
    ++writes;
  }
  std::string data;
  std::size_t writes = 0;
};

class StringSource final : public sdk::ByteSource {
 public:
  explicit StringSource(std::string data, std::size_t max_read = SIZE_MAX)
      : data_(std::move(data)), max_read_(max_read) {}
  std::size_t read(char* buffer, std::size_t capacity) override {
    std::size_t n = std::min({capacity, max_read_, data_.size() - offset_});
    std::memcpy(buffer, data_.data() + offset_, n);
    offset_ += n;
    return n;
  }

 private:
  std::string data_;
  std::size_t max_read_;
  std::size_t offset_ = 0;
};

class RecordingLogger final : public sdk::Logger {
 public:
  void log(sdk::LogLevel, std::string_view message) override {
    std::lock_guard lock(mutex_);
    messages.emplace_back(message);
  }
  /// A copy of what was logged so far: read this, not `messages`, while other threads log.
  std::vector<std::string> snapshot() const {
    std::lock_guard lock(mutex_);
    return messages;
  }
  std::vector<std::string> messages;  ///< only once every logging thread has ended

 private:
  mutable std::mutex mutex_;
};

/// Reads a whole (small, test-sized) source.
inline std::string drain(sdk::ByteSource& source) {
  std::string data;
  char buffer[4096];
  while (std::size_t n = source.read(buffer, sizeof buffer)) data.append(buffer, n);
  return data;
}

}  // namespace dray::test

#pragma once

// A real Redis subscriber for tests: `redis-cli --csv psubscribe <pattern>` as a child
// process, as a client of the fork would subscribe. Collects every message in order.
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include <Poco/Pipe.h>
#include <Poco/PipeStream.h>
#include <Poco/Process.h>

namespace dray::test {

class RedisSubscriber {
 public:
  struct Message {
    std::string channel;
    std::string payload;
  };
  using Messages = std::vector<Message>;

  /// Returns once Redis confirmed the subscription: every later PUBLISH is heard.
  RedisSubscriber(std::uint16_t port, const std::string& pattern) {
    handle_ = std::make_unique<Poco::ProcessHandle>(Poco::Process::launch(
        "redis-cli", {"-p", std::to_string(port), "--csv", "psubscribe", pattern}, nullptr, &out_, nullptr));
    reader_ = std::thread([this] { read(); });
    bool subscribed = false;
    {
      std::unique_lock lock(mutex_);
      changed_.wait_for(lock, std::chrono::seconds(10), [&] { return subscribed_ || ended_; });
      subscribed = subscribed_;
    }
    if (!subscribed) {
      stop();
      throw std::runtime_error("redis-cli psubscribe " + pattern + " did not subscribe");
    }
  }

  ~RedisSubscriber() { stop(); }

  RedisSubscriber(const RedisSubscriber&) = delete;
  RedisSubscriber& operator=(const RedisSubscriber&) = delete;

  Messages messages() const {
    std::lock_guard lock(mutex_);
    return messages_;
  }

  /// Waits until `done` holds for the messages heard so far; returns its last value.
  bool waitFor(const std::function<bool(const Messages&)>& done, std::chrono::milliseconds timeout) const {
    std::unique_lock lock(mutex_);
    return changed_.wait_for(lock, timeout, [&] { return done(messages_) || ended_; }) && done(messages_);
  }

  /// Waits for a message on `channel` with `payload`.
  bool waitFor(const std::string& channel, const std::string& payload, std::chrono::milliseconds timeout) const {
    return waitFor(
        [&](const Messages& heard) {
          for (const auto& m : heard) {
            if (m.channel == channel && m.payload == payload) return true;
          }
          return false;
        },
        timeout);
  }

 private:
  // One line of redis-cli's --csv output: "a","b\"c",1 -> {a, b"c, 1}.
  static std::vector<std::string> fields(const std::string& line) {
    std::vector<std::string> result;
    std::size_t i = 0;
    while (i < line.size()) {
      std::string field;
      if (line[i] == '"') {
        for (++i; i < line.size() && line[i] != '"'; ++i) {
          if (line[i] == '\\' && i + 1 < line.size()) ++i;
          field += line[i];
        }
        ++i;  // the closing quote
      } else {
        while (i < line.size() && line[i] != ',') field += line[i++];
      }
      result.push_back(field);
      if (i < line.size() && line[i] == ',') ++i;
    }
    return result;
  }

  void stop() {
    try {
      Poco::Process::kill(*handle_);
      handle_->wait();
    } catch (...) {
    }
    if (reader_.joinable()) reader_.join();
  }

  void read() {
    Poco::PipeInputStream in(out_);
    std::string line;
    while (std::getline(in, line)) {
      if (!line.empty() && line.back() == '\r') line.pop_back();
      const auto parts = fields(line);
      std::lock_guard lock(mutex_);
      if (parts.size() >= 3 && parts[0] == "psubscribe") subscribed_ = true;
      if (parts.size() == 4 && parts[0] == "pmessage") messages_.push_back({parts[2], parts[3]});
      changed_.notify_all();
    }
    std::lock_guard lock(mutex_);
    ended_ = true;
    changed_.notify_all();
  }

  Poco::Pipe out_;
  std::unique_ptr<Poco::ProcessHandle> handle_;
  mutable std::mutex mutex_;
  mutable std::condition_variable changed_;
  Messages messages_;
  bool subscribed_ = false;
  bool ended_ = false;
  std::thread reader_;
};

/// The messages' channels and payloads as "channel payload" lines, for readable failures.
inline std::string describe(const RedisSubscriber::Messages& messages) {
  std::string text;
  for (const auto& m : messages) text += m.channel + " " + m.payload + "\n";
  return text;
}

}  // namespace dray::test

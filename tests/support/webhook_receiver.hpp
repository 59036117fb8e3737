#pragma once

// A webhook receiver for tests: a real HTTP server (Poco) on 127.0.0.1 that records every
// request and answers with scripted statuses; and a check of recorded deliveries with the
// Standard Webhooks reference library (npm `standardwebhooks`, tests/webhook).
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include <Poco/Net/HTTPServer.h>

namespace dray::test {

struct ReceivedWebhook {
  std::string path;
  std::map<std::string, std::string> headers;  ///< names in lower case
  std::string body;
};

class WebhookReceiver {
 public:
  WebhookReceiver();
  ~WebhookReceiver();
  WebhookReceiver(const WebhookReceiver&) = delete;
  WebhookReceiver& operator=(const WebhookReceiver&) = delete;

  std::uint16_t port() const;
  std::string url(const std::string& path = "/hook") const;
  /// The next requests get these statuses in order, later ones `then`.
  void answerWith(std::vector<int> statuses, int then = 200);
  std::vector<ReceivedWebhook> received() const;
  /// Waits until at least `count` requests came; false on timeout.
  bool waitFor(std::size_t count, std::chrono::milliseconds timeout) const;

  // For the request handler.
  int record(ReceivedWebhook request);

 private:
  mutable std::mutex mutex_;
  mutable std::condition_variable arrived_;
  std::vector<ReceivedWebhook> received_;
  std::vector<int> script_;
  int then_ = 200;
  std::unique_ptr<Poco::Net::HTTPServer> server_;
};

/// Runs the reference verifier over `deliveries` with `secret`; returns its exit code and
/// puts what it printed in `output`.
int verifyWithReferenceLibrary(const std::string& secret, const std::vector<ReceivedWebhook>& deliveries,
                               std::string& output);

}  // namespace dray::test

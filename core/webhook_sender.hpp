#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "core/webhook_policy.hpp"
#include "dray/sdk/storage.hpp"

namespace dray::core {

struct WebhookOptions {
  std::string instance = "dray";                ///< owner of the deliveries this dray makes
  std::string server_url;                       ///< DRAY_WEBHOOK_URL: gets every job's end ("": none)
  std::string server_secret;                    ///< DRAY_WEBHOOK_SECRET: signs those ("": unsigned)
  unsigned retries = 8;                         ///< DRAY_WEBHOOK_RETRIES: attempts after the first
  std::chrono::milliseconds timeout{10000};     ///< DRAY_WEBHOOK_TIMEOUT: per attempt
  std::chrono::milliseconds first_delay{1000};  ///< before the first retry, doubling
  std::chrono::milliseconds max_delay{600000};  ///< cap of the doubling
  unsigned threads = 4;                         ///< attempts made at the same time
};

/// Posts each ended job's final record to its `callback` and to the server's webhook, signed
/// as the Standard Webhooks spec says (webhook-id, webhook-timestamp, webhook-signature),
/// with X-Dray-Event: job.finished. Redirects are not followed. Connection errors, timeouts
/// and 5xx are retried with backoff; 2xx ends it delivered, any other answer ends it
/// refused. Deliveries are kept in storage's outbox until done, so a restarted dray goes
/// on with them (at least once); one signed with a job's secret, which a restart loses,
/// is recorded undeliverable instead. The job's record shows its callback's outcome.
/// Thread-safe.
class WebhookSender {
 public:
  /// The final record of a job as JSON, nullopt when the job is gone.
  using RecordReader = std::function<std::optional<std::string>(const std::string& job_id)>;

  struct Counts {
    std::uint64_t delivered = 0;
    std::uint64_t refused = 0;        ///< a 3xx/4xx answer, or the target is not allowed
    std::uint64_t failed = 0;         ///< retries used up
    std::uint64_t undeliverable = 0;  ///< its secret was lost with a restart
    std::uint64_t retried = 0;        ///< attempts that will be tried again
  };

  WebhookSender(sdk::Storage& storage, WebhookPolicy policy, WebhookOptions options, RecordReader read_record);
  ~WebhookSender();
  WebhookSender(const WebhookSender&) = delete;
  WebhookSender& operator=(const WebhookSender&) = delete;

  /// Takes over the deliveries this instance left pending, then starts sending.
  void start();
  /// The job ended: queues its deliveries. Never throws; quick (reads the record).
  void jobEnded(const std::string& job_id, const std::optional<WebhookTarget>& callback);
  Counts counts() const;
  /// Deliveries waiting or in flight.
  std::size_t pending() const;

 private:
  struct Delivery {
    sdk::PendingDelivery record;
    std::string key;  // the decoded signing key; empty: unsigned
  };
  enum class Outcome { kDelivered, kRetry, kRefused };

  void work();
  void attempt(Delivery delivery);
  Outcome post(const Delivery& delivery, std::string& error) const;
  void queue(Delivery delivery, std::chrono::steady_clock::time_point due);
  void recordCallback(const Delivery& delivery, bool delivered, const std::string& error);
  void forget(const Delivery& delivery);
  std::string keyFor(const std::string& secret) const;

  sdk::Storage& storage_;
  const WebhookPolicy policy_;
  const WebhookOptions options_;
  const RecordReader read_record_;
  std::string server_key_;

  mutable std::mutex mutex_;
  std::condition_variable wake_;
  std::multimap<std::chrono::steady_clock::time_point, Delivery> queue_;
  std::size_t in_flight_ = 0;
  bool stopping_ = false;
  std::vector<std::thread> threads_;

  std::atomic<std::uint64_t> delivered_{0}, refused_{0}, failed_{0}, undeliverable_{0}, retried_{0};
};

}  // namespace dray::core

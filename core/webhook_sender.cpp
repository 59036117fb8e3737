#include "core/webhook_sender.hpp"

#include <Poco/Net/Context.h>
#include <Poco/Net/HTTPClientSession.h>
#include <Poco/Net/HTTPRequest.h>
#include <Poco/Net/HTTPResponse.h>
#include <Poco/Net/HTTPSClientSession.h>
#include <Poco/Net/SSLManager.h>
#include <Poco/NullStream.h>
#include <Poco/StreamCopier.h>
#include <Poco/URI.h>
#include <Poco/UUIDGenerator.h>
#include <spdlog/spdlog.h>

#include "core/webhook_signature.hpp"
#include "dray/sdk/version.hpp"

namespace dray::core {
namespace {

using Clock = std::chrono::steady_clock;

std::int64_t unixSeconds() {
  return std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count();
}

Poco::Timespan toTimespan(std::chrono::milliseconds ms) {
  return Poco::Timespan(static_cast<Poco::Timespan::TimeDiff>(ms.count()) * 1000);
}

// Where a delivery goes, for log lines: scheme, host and port, never the path or query
// (they may carry a token of the receiver's).
std::string describeTarget(const std::string& url) {
  try {
    Poco::URI uri(url);
    return uri.getScheme() + "://" + uri.getHost() + ":" + std::to_string(uri.getPort());
  } catch (const Poco::Exception&) {
    return "(malformed URL)";
  }
}

}  // namespace

WebhookSender::WebhookSender(sdk::Storage& storage, WebhookPolicy policy, WebhookOptions options,
                             RecordReader read_record)
    : storage_(storage), policy_(std::move(policy)), options_(std::move(options)),
      read_record_(std::move(read_record)) {
  if (!options_.server_secret.empty()) server_key_ = webhookKey(options_.server_secret);
  Poco::Net::initializeSSL();
}

WebhookSender::~WebhookSender() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_all();
  for (auto& thread : threads_) thread.join();
  // What is still queued stays in storage's outbox for the next start.
  Poco::Net::uninitializeSSL();
}

std::string WebhookSender::keyFor(const std::string& secret) const { return secret.empty() ? "" : webhookKey(secret); }

void WebhookSender::start() {
  std::vector<sdk::PendingDelivery> left;
  try {
    left = storage_.pendingDeliveries(options_.instance);
  } catch (const std::exception& e) {
    spdlog::error("webhooks: cannot read the deliveries a previous dray left: {}", e.what());
  }
  for (auto& record : left) {
    Delivery delivery{std::move(record), ""};
    if (delivery.record.signed_by_job) {
      // The job's secret lived only in the memory of the dray that stopped.
      ++undeliverable_;
      spdlog::warn("webhooks: delivery {} of job {} is undeliverable: its signing secret was lost with a restart",
                   delivery.record.id, delivery.record.job_id);
      recordCallback(delivery, false, "undeliverable: the job's webhook secret was lost when dray restarted");
      forget(delivery);
      continue;
    }
    if (!delivery.record.job_callback) delivery.key = server_key_;
    spdlog::info("webhooks: resuming delivery {} of job {} after a restart ({} attempts made)", delivery.record.id,
                 delivery.record.job_id, delivery.record.attempts);
    queue(std::move(delivery), Clock::now());
  }
  for (unsigned i = 0; i < std::max(1u, options_.threads); ++i) threads_.emplace_back([this] { work(); });
}

void WebhookSender::jobEnded(const std::string& job_id, const std::optional<WebhookTarget>& callback) {
  if (!callback && options_.server_url.empty()) return;
  try {
    auto body = read_record_(job_id);
    if (!body) return;  // deleted meanwhile: nothing to tell
    std::vector<Delivery> deliveries;
    auto make = [&](const std::string& url, std::string key, bool job_callback) {
      sdk::PendingDelivery record;
      record.id = "msg_" + Poco::UUIDGenerator::defaultGenerator().createRandom().toString();
      record.job_id = job_id;
      record.url = url;
      record.body = *body;
      record.owner = options_.instance;
      record.job_callback = job_callback;
      record.signed_by_job = job_callback && !key.empty();
      deliveries.push_back({std::move(record), std::move(key)});
    };
    if (callback) make(callback->url, keyFor(callback->secret), true);
    if (!options_.server_url.empty()) make(options_.server_url, server_key_, false);
    for (auto& delivery : deliveries) {
      // Kept before the first attempt: a dray killed during it sends it again (at least once).
      storage_.saveDelivery(delivery.record);
      if (delivery.record.job_callback) recordCallback(delivery, false, "");
      queue(std::move(delivery), Clock::now());
    }
  } catch (const std::exception& e) {
    spdlog::error("webhooks: cannot queue the deliveries of job {}: {}", job_id, e.what());
  }
}

void WebhookSender::queue(Delivery delivery, Clock::time_point due) {
  {
    std::lock_guard lock(mutex_);
    queue_.emplace(due, std::move(delivery));
  }
  wake_.notify_one();
}

WebhookSender::Counts WebhookSender::counts() const {
  return {delivered_.load(), refused_.load(), failed_.load(), undeliverable_.load(), retried_.load()};
}

std::size_t WebhookSender::pending() const {
  std::lock_guard lock(mutex_);
  return queue_.size() + in_flight_;
}

void WebhookSender::work() {
  std::unique_lock lock(mutex_);
  while (!stopping_) {
    if (queue_.empty()) {
      wake_.wait(lock);
      continue;
    }
    auto first = queue_.begin();
    if (first->first > Clock::now()) {
      // A copy: another thread may take that entry (and free its key) while this one waits.
      const Clock::time_point due = first->first;
      wake_.wait_until(lock, due);
      continue;
    }
    Delivery delivery = std::move(first->second);
    queue_.erase(first);
    ++in_flight_;
    lock.unlock();
    attempt(std::move(delivery));
    lock.lock();
    --in_flight_;
  }
}

void WebhookSender::attempt(Delivery delivery) {
  ++delivery.record.attempts;
  std::string error;
  const Outcome outcome = post(delivery, error);
  const std::string where = describeTarget(delivery.record.url);
  if (outcome == Outcome::kDelivered) {
    ++delivered_;
    spdlog::info("webhooks: job {} delivered to {} (attempt {})", delivery.record.job_id, where,
                 delivery.record.attempts);
    recordCallback(delivery, true, "");
    forget(delivery);
    return;
  }
  if (outcome == Outcome::kRefused) {
    ++refused_;
    spdlog::warn("webhooks: job {} refused by {}: {}; not retried", delivery.record.job_id, where, error);
    recordCallback(delivery, false, error);
    forget(delivery);
    return;
  }
  if (delivery.record.attempts > options_.retries) {
    ++failed_;
    spdlog::warn("webhooks: job {} not delivered to {} after {} attempts: {}", delivery.record.job_id, where,
                 delivery.record.attempts, error);
    recordCallback(delivery, false, error);
    forget(delivery);
    return;
  }
  ++retried_;
  const auto doubled = options_.first_delay * (std::int64_t{1} << std::min<unsigned>(delivery.record.attempts - 1, 30));
  const auto delay = std::chrono::milliseconds(std::min<std::int64_t>(doubled.count(), options_.max_delay.count()));
  spdlog::info("webhooks: job {} to {}: {}; attempt {} in {} ms", delivery.record.job_id, where, error,
               delivery.record.attempts + 1, delay.count());
  recordCallback(delivery, false, error);
  try {
    storage_.saveDelivery(delivery.record);  // the attempt count survives a restart too
  } catch (const std::exception& e) {
    spdlog::error("webhooks: cannot update delivery {} in storage: {}", delivery.record.id, e.what());
  }
  bool stopping;
  {
    std::lock_guard lock(mutex_);
    stopping = stopping_;
  }
  if (!stopping) queue(std::move(delivery), Clock::now() + delay);
}

WebhookSender::Outcome WebhookSender::post(const Delivery& delivery, std::string& error) const {
  if (delivery.record.job_callback) {
    // Checked again at every attempt: a name may resolve elsewhere than at submit.
    if (std::string refusal = policy_.refusal(delivery.record.url); !refusal.empty()) {
      error = "callback.url " + refusal;
      return Outcome::kRefused;
    }
  }
  try {
    const Poco::URI uri(delivery.record.url);
    std::unique_ptr<Poco::Net::HTTPClientSession> session;
    if (uri.getScheme() == "https") {
      static const Poco::Net::Context::Ptr tls =
          new Poco::Net::Context(Poco::Net::Context::TLS_CLIENT_USE, "", Poco::Net::Context::VERIFY_RELAXED, 9, true);
      session = std::make_unique<Poco::Net::HTTPSClientSession>(uri.getHost(), uri.getPort(), tls);
    } else {
      session = std::make_unique<Poco::Net::HTTPClientSession>(uri.getHost(), uri.getPort());
    }
    session->setTimeout(toTimespan(options_.timeout));
    Poco::Net::HTTPRequest request(Poco::Net::HTTPRequest::HTTP_POST,
                                   uri.getPathAndQuery().empty() ? "/" : uri.getPathAndQuery(),
                                   Poco::Net::HTTPMessage::HTTP_1_1);
    const std::int64_t timestamp = unixSeconds();
    request.setContentType("application/json");
    request.setContentLength(static_cast<std::streamsize>(delivery.record.body.size()));
    request.set("User-Agent", std::string("dray/") + sdk::kSdkVersion);
    request.set("webhook-id", delivery.record.id);
    request.set("webhook-timestamp", std::to_string(timestamp));
    if (!delivery.key.empty()) {
      request.set("webhook-signature",
                  webhookSignature(delivery.key, delivery.record.id, timestamp, delivery.record.body));
    }
    request.set("X-Dray-Event", "job.finished");
    session->sendRequest(request) << delivery.record.body;
    Poco::Net::HTTPResponse response;
    std::istream& answer = session->receiveResponse(response);
    Poco::NullOutputStream discard;
    Poco::StreamCopier::copyStream(answer, discard);  // bounded by the timeout
    const int status = response.getStatus();
    if (status >= 200 && status < 300) return Outcome::kDelivered;
    error = "HTTP " + std::to_string(status);
    if (status >= 300 && status < 400) {
      error += " (redirects are not followed)";
      return Outcome::kRefused;
    }
    return status >= 500 ? Outcome::kRetry : Outcome::kRefused;
  } catch (const Poco::Exception& e) {
    error = e.displayText();
  } catch (const std::exception& e) {
    error = e.what();
  }
  return Outcome::kRetry;
}

void WebhookSender::recordCallback(const Delivery& delivery, bool delivered, const std::string& error) {
  if (!delivery.record.job_callback) return;  // the server's webhook is not part of the job
  try {
    storage_.setCallback(delivery.record.job_id, {true, delivered, delivery.record.attempts, error});
  } catch (const std::exception& e) {
    spdlog::error("webhooks: cannot record the callback of job {}: {}", delivery.record.job_id, e.what());
  }
}

void WebhookSender::forget(const Delivery& delivery) {
  try {
    storage_.removeDelivery(delivery.record.id);
  } catch (const std::exception& e) {
    spdlog::error("webhooks: cannot remove delivery {} from storage: {}", delivery.record.id, e.what());
  }
}

}  // namespace dray::core

#include "tests/support/webhook_receiver.hpp"

#include <fstream>
#include <sstream>

#include <Poco/JSON/Array.h>
#include <Poco/JSON/Object.h>
#include <Poco/Net/HTTPRequestHandler.h>
#include <Poco/Net/HTTPRequestHandlerFactory.h>
#include <Poco/Net/HTTPServerParams.h>
#include <Poco/Net/HTTPServerRequest.h>
#include <Poco/Net/HTTPServerResponse.h>
#include <Poco/Net/ServerSocket.h>
#include <Poco/StreamCopier.h>
#include <Poco/String.h>

#include "tests/support/test_support.hpp"

namespace dray::test {
namespace {

class RecordingHandler : public Poco::Net::HTTPRequestHandler {
 public:
  explicit RecordingHandler(WebhookReceiver& receiver) : receiver_(receiver) {}
  void handleRequest(Poco::Net::HTTPServerRequest& request, Poco::Net::HTTPServerResponse& response) override {
    ReceivedWebhook received;
    received.path = request.getURI();
    for (const auto& [name, value] : request) received.headers[Poco::toLower(name)] = value;
    Poco::StreamCopier::copyToString(request.stream(), received.body);
    const int status = receiver_.record(std::move(received));
    response.setStatus(static_cast<Poco::Net::HTTPResponse::HTTPStatus>(status));
    if (status >= 300 && status < 400) response.set("Location", "http://127.0.0.1:1/elsewhere");
    response.setContentLength(2);
    response.send() << "ok";
  }

 private:
  WebhookReceiver& receiver_;
};

class Factory : public Poco::Net::HTTPRequestHandlerFactory {
 public:
  explicit Factory(WebhookReceiver& receiver) : receiver_(receiver) {}
  Poco::Net::HTTPRequestHandler* createRequestHandler(const Poco::Net::HTTPServerRequest&) override {
    return new RecordingHandler(receiver_);
  }

 private:
  WebhookReceiver& receiver_;
};

}  // namespace

WebhookReceiver::WebhookReceiver() {
  Poco::Net::ServerSocket socket(Poco::Net::SocketAddress("127.0.0.1", 0));
  server_ = std::make_unique<Poco::Net::HTTPServer>(new Factory(*this), socket, new Poco::Net::HTTPServerParams);
  server_->start();
}

WebhookReceiver::~WebhookReceiver() { server_->stopAll(true); }

std::uint16_t WebhookReceiver::port() const { return server_->port(); }

std::string WebhookReceiver::url(const std::string& path) const {
  return "http://127.0.0.1:" + std::to_string(port()) + path;
}

void WebhookReceiver::answerWith(std::vector<int> statuses, int then) {
  std::lock_guard lock(mutex_);
  script_ = std::move(statuses);
  then_ = then;
}

int WebhookReceiver::record(ReceivedWebhook request) {
  std::lock_guard lock(mutex_);
  received_.push_back(std::move(request));
  int status = then_;
  if (!script_.empty()) {
    status = script_.front();
    script_.erase(script_.begin());
  }
  arrived_.notify_all();
  return status;
}

std::vector<ReceivedWebhook> WebhookReceiver::received() const {
  std::lock_guard lock(mutex_);
  return received_;
}

bool WebhookReceiver::waitFor(std::size_t count, std::chrono::milliseconds timeout) const {
  std::unique_lock lock(mutex_);
  return arrived_.wait_for(lock, timeout, [&] { return received_.size() >= count; });
}

int verifyWithReferenceLibrary(const std::string& secret, const std::vector<ReceivedWebhook>& deliveries,
                               std::string& output) {
  Poco::JSON::Array list;
  for (const auto& delivery : deliveries) {
    Poco::JSON::Object headers;
    for (const char* name : {"webhook-id", "webhook-timestamp", "webhook-signature"}) {
      auto it = delivery.headers.find(name);
      if (it != delivery.headers.end()) headers.set(name, it->second);
    }
    Poco::JSON::Object entry;
    entry.set("headers", headers);
    entry.set("body", delivery.body);
    list.add(entry);
  }
  TempDir dir;
  const std::string file = dir.path() + "/deliveries.json";
  {
    std::ofstream out(file);
    list.stringify(out);
  }
  int status = -1;
  output = shell(
      "cd '" + std::string(DRAY_TEST_WEBHOOK_VERIFIER) + "' && node verify.mjs '" + secret + "' < '" + file + "' 2>&1",
      &status);
  return status;
}

}  // namespace dray::test

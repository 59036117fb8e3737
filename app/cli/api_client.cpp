#include "app/cli/api_client.hpp"

#include <Poco/JSON/Parser.h>
#include <Poco/Net/HTTPClientSession.h>
#include <Poco/Net/HTTPRequest.h>
#include <Poco/Net/HTTPResponse.h>
#include <Poco/Net/HTTPSClientSession.h>
#include <Poco/Net/RejectCertificateHandler.h>
#include <Poco/Net/SSLManager.h>
#include <Poco/StreamCopier.h>

#include <chrono>
#include <thread>

namespace dray::cli {
namespace {

Poco::Dynamic::Var parse(const std::string& body) {
  Poco::JSON::Parser parser;
  return parser.parse(body);
}

}  // namespace

ApiClient::ApiClient(const std::string& url, Credentials credentials)
    : base_(url), credentials_(std::move(credentials)) {
  if ((base_.getScheme() != "http" && base_.getScheme() != "https") || base_.getHost().empty()) {
    throw ApiError(0, "the dray URL must look like http://host:port or https://host:port, got '" + url + "'");
  }
  if (base_.getScheme() == "http" && !credentials_.ca_file.empty()) {
    throw ApiError(0, "--cacert needs an https:// URL");
  }
}

std::unique_ptr<Poco::Net::HTTPClientSession> ApiClient::session() const {
  if (base_.getScheme() == "http")
    return std::make_unique<Poco::Net::HTTPClientSession>(base_.getHost(), base_.getPort());
  Poco::Net::initializeSSL();
  // Without --cacert the system's CAs are trusted; the name in the URL must match the certificate.
  Poco::Net::Context::Ptr context =
      new Poco::Net::Context(Poco::Net::Context::TLS_CLIENT_USE, credentials_.key_file, credentials_.cert_file,
                             credentials_.ca_file, Poco::Net::Context::VERIFY_RELAXED, 9, credentials_.ca_file.empty());
  // A certificate that does not verify ends the call (no prompt, no fallback).
  Poco::SharedPtr<Poco::Net::InvalidCertificateHandler> reject = new Poco::Net::RejectCertificateHandler(false);
  Poco::Net::SSLManager::instance().initializeClient(nullptr, reject, context);
  return std::make_unique<Poco::Net::HTTPSClientSession>(base_.getHost(), base_.getPort(), context);
}

std::string ApiClient::call(const std::string& method, const std::string& path, const std::string& body,
                            long timeout_seconds) {
  try {
    auto connection = session();
    Poco::Net::HTTPClientSession& session = *connection;
    session.setTimeout(Poco::Timespan(timeout_seconds, 0));
    Poco::Net::HTTPRequest request(method, base_.getPath() + path, Poco::Net::HTTPMessage::HTTP_1_1);
    if (!credentials_.token.empty()) request.set("Authorization", "Bearer " + credentials_.token);
    if (method == "POST") {
      request.setContentType("application/json");
      request.setContentLength(static_cast<std::streamsize>(body.size()));
    }
    session.sendRequest(request) << body;
    Poco::Net::HTTPResponse response;
    std::string answer;
    Poco::StreamCopier::copyToString(session.receiveResponse(response), answer);
    if (response.getStatus() / 100 == 2) return answer;
    std::string message = answer;
    try {
      message = parse(answer).extract<Poco::JSON::Object::Ptr>()->getValue<std::string>("error");
    } catch (const std::exception&) {
    }
    throw ApiError(response.getStatus(), message);
  } catch (const Poco::Exception& e) {
    throw ApiError(0, "cannot reach dray at " + base_.toString() + ": " + e.displayText());
  }
}

std::string ApiClient::submit(const std::string& job_json) {
  return parse(call("POST", "/jobs", job_json)).extract<Poco::JSON::Object::Ptr>()->getValue<std::string>("id");
}

Poco::JSON::Array::Ptr ApiClient::list() { return parse(call("GET", "/jobs")).extract<Poco::JSON::Array::Ptr>(); }

Poco::JSON::Object::Ptr ApiClient::job(const std::string& id) {
  return parse(call("GET", "/jobs/" + id)).extract<Poco::JSON::Object::Ptr>();
}

Poco::JSON::Array::Ptr ApiClient::log(const std::string& id, std::size_t index) {
  // Pages of kLogPage lines: a huge log never has to fit in this process at once.
  auto body =
      parse(call("GET", "/jobs/" + id + "/log?index=" + std::to_string(index) + "&limit=" + std::to_string(kLogPage)));
  return body.extract<Poco::JSON::Object::Ptr>()->getArray("lines");
}

Poco::JSON::Object::Ptr ApiClient::waitForJob(const std::string& id, unsigned seconds) {
  return parse(call("GET", "/jobs/" + id + "?wait=" + std::to_string(seconds), "", seconds + 30))
      .extract<Poco::JSON::Object::Ptr>();
}

ApiClient::Follow ApiClient::followEvents(const std::string& id, const std::function<void(const SseEvent&)>& on_event) {
  std::optional<std::string> last_id;
  for (int failures = 0;;) {
    try {
      auto connection = session();
      // Longer than the server's heartbeat (15 s): a silent minute means a dead connection.
      connection->setTimeout(Poco::Timespan(60, 0));
      Poco::Net::HTTPRequest request("GET", base_.getPath() + "/jobs/" + id + "/events",
                                     Poco::Net::HTTPMessage::HTTP_1_1);
      request.set("Accept", "text/event-stream");
      if (!credentials_.token.empty()) request.set("Authorization", "Bearer " + credentials_.token);
      if (last_id) request.set("Last-Event-ID", *last_id);
      connection->sendRequest(request);
      Poco::Net::HTTPResponse response;
      std::istream& body = connection->receiveResponse(response);
      if (response.getStatus() != 200 || response.getContentType().find("text/event-stream") != 0) {
        std::string answer;
        Poco::StreamCopier::copyToString(body, answer);
        // The job exists (checked by the caller) but the route does not: an older dray.
        if (response.getStatus() == 404 || response.getStatus() == 405) {
          try {
            job(id);
          } catch (const ApiError& e) {
            if (e.status() == 404) throw;
          }
          return Follow::kUnsupported;
        }
        throw ApiError(response.getStatus(), answer);
      }
      SseReader reader(body);
      while (auto event = reader.next()) {
        failures = 0;
        if (event->id) last_id = event->id;
        on_event(*event);
        if (event->event == "end" || event->event == "removed") return Follow::kEnded;
      }
      // The stream closed or broke before the end: open it again from the last line seen.
    } catch (const Poco::Exception& e) {
      if (++failures > 5) throw ApiError(0, "lost the event stream of " + id + ": " + e.displayText());
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(500));
  }
}

void ApiClient::cancel(const std::string& id) { call("POST", "/jobs/" + id + "/cancel"); }

void ApiClient::remove(const std::string& id) { call("DELETE", "/jobs/" + id); }

}  // namespace dray::cli

#include "tests/support/sse_client.hpp"

#include <sstream>

#include <Poco/JSON/Parser.h>
#include <Poco/Net/HTTPRequest.h>
#include <Poco/Net/StreamSocket.h>
#include <Poco/StreamCopier.h>

namespace dray::test {

Poco::JSON::Object::Ptr SseEvent::json() const {
  return Poco::JSON::Parser().parse(data).extract<Poco::JSON::Object::Ptr>();
}

SseClient::SseClient(std::uint16_t port, const std::string& path, const std::map<std::string, std::string>& headers,
                     std::chrono::milliseconds timeout, const std::string& source_address) {
  const Poco::Timespan wait(static_cast<Poco::Timespan::TimeDiff>(timeout.count()) * 1000);
  Poco::Net::StreamSocket socket;
  if (!source_address.empty()) socket.impl()->bind(Poco::Net::SocketAddress(source_address, 0));
  socket.connect(Poco::Net::SocketAddress("127.0.0.1", port), wait);
  session_ = std::make_unique<Poco::Net::HTTPClientSession>(socket);
  session_->setTimeout(wait);
  Poco::Net::HTTPRequest request(Poco::Net::HTTPRequest::HTTP_GET, path, Poco::Net::HTTPMessage::HTTP_1_1);
  request.setHost("127.0.0.1", port);
  request.set("Accept", "text/event-stream");
  for (const auto& [name, value] : headers) request.set(name, value);
  session_->sendRequest(request);
  body_ = &session_->receiveResponse(response_);
}

std::string SseClient::body() {
  std::string text;
  Poco::StreamCopier::copyToString(*body_, text);
  return text;
}

std::optional<SseEvent> SseClient::next() {
  SseEvent event;
  bool any = false;
  std::string line;
  while (std::getline(*body_, line)) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line.empty()) {
      if (!any) continue;  // a blank line with nothing before it dispatches nothing
      event.received = std::chrono::steady_clock::now();
      return event;
    }
    if (line.front() == ':') {
      ++comments_;
      continue;
    }
    const auto colon = line.find(':');
    std::string field = line.substr(0, colon);
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
    } else if (field == "retry") {
      retry_ms_ = std::stol(value);
    }
  }
  if (body_->bad()) throw Poco::TimeoutException("event stream: nothing arrived in time, or the stream broke");
  return std::nullopt;
}

}  // namespace dray::test

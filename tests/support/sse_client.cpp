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
  if (!reader_) reader_ = std::make_unique<cli::SseReader>(*body_);
  auto event = reader_->next();
  if (!event) {
    if (reader_->broken()) throw Poco::TimeoutException("event stream: nothing arrived in time, or the stream broke");
    return std::nullopt;
  }
  SseEvent received;
  static_cast<cli::SseEvent&>(received) = std::move(*event);
  received.received = std::chrono::steady_clock::now();
  return received;
}

}  // namespace dray::test

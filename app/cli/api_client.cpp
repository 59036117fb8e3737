#include "api_client.hpp"

#include <Poco/JSON/Parser.h>
#include <Poco/Net/HTTPClientSession.h>
#include <Poco/Net/HTTPRequest.h>
#include <Poco/Net/HTTPResponse.h>
#include <Poco/StreamCopier.h>

namespace dray::cli {
namespace {

Poco::Dynamic::Var parse(const std::string& body) {
  Poco::JSON::Parser parser;
  return parser.parse(body);
}

}  // namespace

ApiClient::ApiClient(const std::string& url) : base_(url) {
  if (base_.getScheme() != "http" || base_.getHost().empty()) {
    throw ApiError(0, "the dray URL must look like http://host:port, got '" + url + "'");
  }
}

std::string ApiClient::call(const std::string& method, const std::string& path, const std::string& body) {
  try {
    Poco::Net::HTTPClientSession session(base_.getHost(), base_.getPort());
    session.setTimeout(Poco::Timespan(30, 0));
    Poco::Net::HTTPRequest request(method, base_.getPath() + path, Poco::Net::HTTPMessage::HTTP_1_1);
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
  auto body = parse(call("GET", "/jobs/" + id + "/log?index=" + std::to_string(index)));
  return body.extract<Poco::JSON::Object::Ptr>()->getArray("lines");
}

void ApiClient::cancel(const std::string& id) { call("POST", "/jobs/" + id + "/cancel"); }

void ApiClient::remove(const std::string& id) { call("DELETE", "/jobs/" + id); }

}  // namespace dray::cli

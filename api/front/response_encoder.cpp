#include "api/front/response_encoder.hpp"

#include <cstdio>

#include <Poco/DateTimeFormat.h>
#include <Poco/DateTimeFormatter.h>
#include <Poco/Net/HTTPResponse.h>
#include <Poco/Timestamp.h>

namespace dray::api {

std::string encodeHead(const Response& response, bool keep_alive) {
  const auto status = static_cast<Poco::Net::HTTPResponse::HTTPStatus>(response.status);
  std::string out;
  out.reserve(256);
  out += "HTTP/1.1 " + std::to_string(response.status) + " " + Poco::Net::HTTPResponse::getReasonForStatus(status);
  out += "\r\nDate: " + Poco::DateTimeFormatter::format(Poco::Timestamp(), Poco::DateTimeFormat::HTTP_FORMAT);
  if (hasBody(response.status)) {
    if (!response.content_type.empty()) out += "\r\nContent-Type: " + response.content_type;
    out += response.stream ? std::string("\r\nTransfer-Encoding: chunked")
                           : "\r\nContent-Length: " + std::to_string(response.body.size());
  }
  out += keep_alive ? "\r\nConnection: keep-alive" : "\r\nConnection: close";
  for (const auto& [name, value] : response.headers) out += "\r\n" + name + ": " + value;
  out += "\r\n\r\n";
  return out;
}

std::string encodeChunk(std::string_view piece) {
  if (piece.empty()) return "";  // an empty chunk would end the body
  char size[24];
  std::snprintf(size, sizeof size, "%zx\r\n", piece.size());
  std::string out;
  out.reserve(piece.size() + 32);
  out.append(size).append(piece).append("\r\n");
  return out;
}

}  // namespace dray::api

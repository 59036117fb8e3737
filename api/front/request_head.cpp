#include "request_head.hpp"

#include <algorithm>

#include <Poco/MemoryStream.h>
#include <Poco/Net/HTTPRequest.h>
#include <Poco/Net/NetException.h>
#include <Poco/String.h>

namespace dray::api {
namespace {

bool allDigits(const std::string& text) {
  return !text.empty() && std::all_of(text.begin(), text.end(), [](unsigned char c) { return c >= '0' && c <= '9'; });
}

bool hasToken(const std::string& list, std::string_view token) {
  // Connection: keep-alive, Upgrade -> tokens compared without case.
  std::size_t start = 0;
  while (start <= list.size()) {
    std::size_t end = list.find(',', start);
    if (end == std::string::npos) end = list.size();
    std::string item = Poco::trim(list.substr(start, end - start));
    if (Poco::icompare(item, std::string(token)) == 0) return true;
    start = end + 1;
  }
  return false;
}

// Applies the framing rules to the parsed fields. Any ambiguity is a 400: a proxy in
// front of us could read the body differently and smuggle a second request in it.
std::optional<HeadError> applyFraming(RequestHead& head, std::size_t max_body) {
  std::vector<std::string> lengths;
  std::vector<std::string> encodings;
  for (const auto& [name, value] : head.fields) {
    if (Poco::icompare(name, "Content-Length") == 0) lengths.push_back(Poco::trim(value));
    if (Poco::icompare(name, "Transfer-Encoding") == 0) encodings.push_back(Poco::trim(value));
  }
  if (!encodings.empty() && !lengths.empty()) {
    return HeadError{400, "Transfer-Encoding and Content-Length together are refused"};
  }
  if (encodings.size() > 1) return HeadError{400, "more than one Transfer-Encoding field"};
  if (!encodings.empty()) {
    if (Poco::icompare(encodings.front(), "chunked") != 0) {
      return HeadError{501, "only Transfer-Encoding: chunked is supported, got '" + encodings.front() + "'"};
    }
    if (head.version == "HTTP/1.0") return HeadError{400, "chunked encoding needs HTTP/1.1"};
    head.framing = BodyFraming::kChunked;
    return std::nullopt;
  }
  if (lengths.size() > 1) return HeadError{400, "more than one Content-Length field"};
  if (lengths.empty()) return std::nullopt;  // no body at all, whatever the method
  const std::string& text = lengths.front();
  if (!allDigits(text)) return HeadError{400, "Content-Length must be digits only, got '" + text + "'"};
  // Compare as text first: a length with more digits than any limit cannot overflow us.
  if (text.size() > 15 || std::stoull(text) > max_body) {
    return HeadError{413, "request body is larger than " + std::to_string(max_body) + " bytes"};
  }
  head.content_length = std::stoull(text);
  head.framing = head.content_length > 0 ? BodyFraming::kLength : BodyFraming::kNone;
  return std::nullopt;
}

}  // namespace

std::optional<std::string> RequestHead::field(std::string_view name) const {
  for (const auto& [key, value] : fields) {
    if (Poco::icompare(key, std::string(name)) == 0) return value;
  }
  return std::nullopt;
}

std::size_t findHeadEnd(std::string_view buffer) {
  std::size_t start = 0;
  // Robustness (RFC 9112 2.2): ignore empty lines before the request line.
  while (start < buffer.size() && (buffer[start] == '\r' || buffer[start] == '\n')) ++start;
  for (std::size_t i = buffer.find('\n', start); i != std::string_view::npos; i = buffer.find('\n', i + 1)) {
    if (i + 1 < buffer.size() && buffer[i + 1] == '\n') return i + 2;
    if (i + 2 < buffer.size() && buffer[i + 1] == '\r' && buffer[i + 2] == '\n') return i + 3;
  }
  return 0;
}

std::variant<RequestHead, HeadError> parseRequestHead(std::string_view head, std::size_t max_fields,
                                                      std::size_t max_body) {
  while (!head.empty() && (head.front() == '\r' || head.front() == '\n')) head.remove_prefix(1);
  // Lines minus the request line and the blank line: counted here so the answer is a
  // precise 431, not Poco's generic "too many fields".
  std::size_t lines = static_cast<std::size_t>(std::count(head.begin(), head.end(), '\n'));
  if (lines >= 2 && lines - 2 > max_fields) {
    return HeadError{431, "more than " + std::to_string(max_fields) + " header fields"};
  }
  if (head.find('\0') != std::string_view::npos) return HeadError{400, "NUL byte in the request head"};
  Poco::Net::HTTPRequest request;
  try {
    Poco::MemoryInputStream in(head.data(), head.size());
    request.setFieldLimit(static_cast<int>(max_fields));
    request.read(in);
  } catch (const Poco::Exception& e) {
    return HeadError{400, "malformed request head: " + e.message()};
  }
  RequestHead parsed;
  parsed.method = request.getMethod();
  parsed.target = request.getURI();
  parsed.version = request.getVersion();
  if (parsed.version != "HTTP/1.1" && parsed.version != "HTTP/1.0") {
    if (parsed.version.rfind("HTTP/", 0) != 0) return HeadError{400, "malformed request line"};
    return HeadError{505, "HTTP version " + parsed.version + " is not supported"};
  }
  if (parsed.method.empty() || parsed.target.empty() || parsed.target.front() != '/') {
    return HeadError{400, "the request target must be a path starting with '/'"};
  }
  for (const auto& [name, value] : request) parsed.fields.emplace_back(name, value);
  if (auto error = applyFraming(parsed, max_body)) return *error;
  std::string connection = parsed.field("Connection").value_or("");
  parsed.keep_alive = parsed.version == "HTTP/1.1" ? !hasToken(connection, "close") : hasToken(connection, "keep-alive");
  parsed.expect_continue = Poco::icompare(parsed.field("Expect").value_or(""), "100-continue") == 0;
  return parsed;
}

}  // namespace dray::api

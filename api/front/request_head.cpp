#include "api/front/request_head.hpp"

#include <algorithm>
#include <cctype>

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

namespace {

bool isTokenChar(unsigned char c) {
  return std::isalnum(c) || std::string_view("!#$%&'*+-.^_`|~").find(static_cast<char>(c)) != std::string_view::npos;
}

bool isToken(std::string_view text) {
  return !text.empty() && std::all_of(text.begin(), text.end(), [](unsigned char c) { return isTokenChar(c); });
}

// Visible characters, spaces and tabs: no CR, LF, NUL or other controls inside a value.
bool isFieldValue(std::string_view text) {
  return std::all_of(text.begin(), text.end(), [](unsigned char c) { return c == '\t' || (c >= 0x20 && c != 0x7f); });
}

std::string_view trimBlanks(std::string_view text) {
  while (!text.empty() && (text.front() == ' ' || text.front() == '\t')) text.remove_prefix(1);
  while (!text.empty() && (text.back() == ' ' || text.back() == '\t')) text.remove_suffix(1);
  return text;
}

// The next line of `head` without its LF (and CR), advancing `head`.
std::string_view nextLine(std::string_view& head) {
  auto end = head.find('\n');
  std::string_view line = head.substr(0, end);
  head.remove_prefix(end == std::string_view::npos ? head.size() : end + 1);
  if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
  return line;
}

}  // namespace

// Parsed by hand, strictly, rather than with Poco's MessageHeader: that one keeps
// "Content-Length :" as another field, skips lines without a colon, unfolds continuation
// lines and decodes RFC 2047 words, each a way for a request to mean one thing to a proxy
// in front of dray and another to dray (request smuggling).
std::variant<RequestHead, HeadError> parseRequestHead(std::string_view head, std::size_t max_fields,
                                                      std::size_t max_body) {
  while (!head.empty() && (head.front() == '\r' || head.front() == '\n')) head.remove_prefix(1);
  // Lines minus the request line and the blank line.
  std::size_t lines = static_cast<std::size_t>(std::count(head.begin(), head.end(), '\n'));
  if (lines >= 2 && lines - 2 > max_fields) {
    return HeadError{431, "more than " + std::to_string(max_fields) + " header fields"};
  }
  RequestHead parsed;
  std::string_view request_line = nextLine(head);
  auto first = request_line.find(' ');
  auto second = first == std::string_view::npos ? first : request_line.find(' ', first + 1);
  if (second == std::string_view::npos || request_line.find(' ', second + 1) != std::string_view::npos) {
    return HeadError{400, "malformed request line"};
  }
  parsed.method = std::string(request_line.substr(0, first));
  parsed.target = std::string(request_line.substr(first + 1, second - first - 1));
  parsed.version = std::string(request_line.substr(second + 1));
  if (!isToken(parsed.method) || parsed.target.empty() || !isFieldValue(parsed.target) ||
      parsed.target.find_first_of(" \t") != std::string::npos) {
    return HeadError{400, "malformed request line"};
  }
  if (parsed.version != "HTTP/1.1" && parsed.version != "HTTP/1.0") {
    if (parsed.version.rfind("HTTP/", 0) != 0) return HeadError{400, "malformed request line"};
    return HeadError{505, "HTTP version " + parsed.version + " is not supported"};
  }
  if (parsed.target.front() != '/') return HeadError{400, "the request target must be a path starting with '/'"};
  for (std::string_view line = nextLine(head); !line.empty(); line = nextLine(head)) {
    if (line.front() == ' ' || line.front() == '\t') return HeadError{400, "folded header lines are refused"};
    auto colon = line.find(':');
    if (colon == std::string_view::npos) return HeadError{400, "a header line without ':'"};
    std::string_view name = line.substr(0, colon);
    std::string_view value = trimBlanks(line.substr(colon + 1));
    if (!isToken(name)) return HeadError{400, "malformed header field name"};
    if (!isFieldValue(value)) return HeadError{400, "control character in header field " + std::string(name)};
    parsed.fields.emplace_back(std::string(name), std::string(value));
  }
  if (auto error = applyFraming(parsed, max_body)) return *error;
  std::string connection = parsed.field("Connection").value_or("");
  parsed.keep_alive =
      parsed.version == "HTTP/1.1" ? !hasToken(connection, "close") : hasToken(connection, "keep-alive");
  parsed.expect_continue = Poco::icompare(parsed.field("Expect").value_or(""), "100-continue") == 0;
  return parsed;
}

}  // namespace dray::api

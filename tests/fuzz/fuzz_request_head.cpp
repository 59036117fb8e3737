// Request heads as they arrive on a socket: the front finds the end of the head, then parses
// it strictly (api/front/request_head). Checks that the end found does not depend on how the
// bytes arrived (a prefix never ends earlier or elsewhere), that only the documented statuses
// come back, that an accepted head keeps every rule (token method, path target, HTTP/1.x,
// clean field names and values, unambiguous framing within the limits), that writing an
// accepted head back canonically parses to the same head, and that tighter limits never
// accept what looser ones refuse.
#include <cctype>
#include <string>
#include <variant>

#include "api/front/request_head.hpp"
#include "tests/fuzz/fuzz_support.hpp"

namespace {

using namespace dray::api;

constexpr std::size_t kFields = 100;
constexpr std::size_t kBody = 1 << 20;

bool isToken(std::string_view text) {
  return !text.empty() && text.find_first_not_of(
                              "!#$%&'*+-.^_`|~0123456789"
                              "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz") == std::string_view::npos;
}

bool isCleanValue(std::string_view text) {
  for (unsigned char c : text) {
    if (c != '\t' && (c < 0x20 || c == 0x7f)) return false;
  }
  return text.empty() || (text.front() != ' ' && text.front() != '\t' && text.back() != ' ' && text.back() != '\t');
}

bool sameHead(const RequestHead& a, const RequestHead& b) {
  return a.method == b.method && a.target == b.target && a.version == b.version && a.fields == b.fields &&
         a.framing == b.framing && a.content_length == b.content_length && a.keep_alive == b.keep_alive &&
         a.expect_continue == b.expect_continue;
}

std::variant<RequestHead, HeadError> parse(std::string_view head, std::size_t fields, std::size_t body) {
  try {
    return parseRequestHead(head, fields, body);
  } catch (...) {
    FUZZ_FAIL("parseRequestHead threw");  // it answers with a status, never an exception
  }
}

void checkAccepted(const RequestHead& head, std::size_t max_fields, std::size_t max_body) {
  FUZZ_CHECK(isToken(head.method));
  FUZZ_CHECK(!head.target.empty() && head.target.front() == '/' && isCleanValue(head.target) &&
             head.target.find_first_of(" \t") == std::string::npos);
  FUZZ_CHECK(head.version == "HTTP/1.1" || head.version == "HTTP/1.0");
  FUZZ_CHECK(head.fields.size() <= max_fields);
  std::size_t lengths = 0, encodings = 0;
  for (const auto& [name, value] : head.fields) {
    FUZZ_CHECK(isToken(name) && isCleanValue(value));
    std::string lower;
    for (char c : name) lower.push_back(static_cast<char>(std::tolower(static_cast<unsigned char>(c))));
    lengths += lower == "content-length";
    encodings += lower == "transfer-encoding";
  }
  // Framing a proxy could read otherwise never passes.
  FUZZ_CHECK(!(lengths > 0 && encodings > 0) && lengths <= 1 && encodings <= 1);
  FUZZ_CHECK(head.content_length <= max_body);
  switch (head.framing) {
    case BodyFraming::kChunked:
      FUZZ_CHECK(encodings == 1 && head.version == "HTTP/1.1" && head.content_length == 0);
      break;
    case BodyFraming::kLength:
      FUZZ_CHECK(lengths == 1 && head.content_length > 0);
      break;
    case BodyFraming::kNone:
      FUZZ_CHECK(encodings == 0 && head.content_length == 0);
      break;
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view buffer(reinterpret_cast<const char*>(data), size);

  // The end of the head, as bytes arrive: no prefix has an end of its own, and the end is
  // where the first blank line ends.
  const std::size_t end = findHeadEnd(buffer);
  const std::uint64_t hash = dray::fuzz::hashOf(buffer);
  if (end > 0) {
    FUZZ_CHECK(end <= buffer.size() && buffer[end - 1] == '\n');
    FUZZ_CHECK(findHeadEnd(buffer.substr(0, end)) == end);
    FUZZ_CHECK(findHeadEnd(buffer.substr(0, end - 1)) == 0);
    FUZZ_CHECK(findHeadEnd(buffer.substr(0, hash % end)) == 0);
  } else if (!buffer.empty()) {
    FUZZ_CHECK(findHeadEnd(buffer.substr(0, hash % buffer.size())) == 0);
  }
  const std::string_view head = end > 0 ? buffer.substr(0, end) : buffer;

  const auto loose = parse(head, kFields, kBody);
  const auto strict = parse(head, 3, 16);
  if (end == 0) return 0;  // the front parses only complete heads: this one only must not crash
  if (const auto* error = std::get_if<HeadError>(&loose)) {
    const int s = error->status;
    FUZZ_CHECK(s == 400 || s == 413 || s == 431 || s == 501 || s == 505);
    FUZZ_CHECK(!error->message.empty());
    FUZZ_CHECK(std::holds_alternative<HeadError>(strict));  // tighter limits accept no more
    return 0;
  }
  const RequestHead& parsed = std::get<RequestHead>(loose);
  checkAccepted(parsed, kFields, kBody);
  if (const auto* tight = std::get_if<RequestHead>(&strict)) {
    checkAccepted(*tight, 3, 16);
    FUZZ_CHECK(sameHead(*tight, parsed));
  }

  // Written back canonically, the head reads the same.
  std::string canonical = parsed.method + " " + parsed.target + " " + parsed.version + "\r\n";
  for (const auto& [name, value] : parsed.fields) canonical += name + ": " + value + "\r\n";
  canonical += "\r\n";
  FUZZ_CHECK(findHeadEnd(canonical) == canonical.size());
  const auto again = parse(canonical, kFields, kBody);
  FUZZ_CHECK(std::holds_alternative<RequestHead>(again) && sameHead(std::get<RequestHead>(again), parsed));
  return 0;
}

#include "api/front/request_head.hpp"

#include <catch2/catch.hpp>

using namespace dray::api;

namespace {

constexpr std::size_t kMaxBody = 1 << 20;

std::variant<RequestHead, HeadError> parse(const std::string& head) { return parseRequestHead(head, 100, kMaxBody); }

int statusOf(const std::string& head) {
  auto parsed = parse(head);
  return std::holds_alternative<HeadError>(parsed) ? std::get<HeadError>(parsed).status : 0;
}

}  // namespace

TEST_CASE("the end of a head is found after its blank line", "[api][front][head]") {
  CHECK(findHeadEnd("GET / HTTP/1.1\r\nHost: x\r\n") == 0);
  CHECK(findHeadEnd("GET / HTTP/1.1\r\nHost: x\r\n\r\nbody") == 27);
  CHECK(findHeadEnd("GET / HTTP/1.1\nHost: x\n\nbody") == 24);
  CHECK(findHeadEnd("\r\n\r\nGET / HTTP/1.1\r\n\r\n") == 22);  // empty lines before the request line
  CHECK(findHeadEnd("") == 0);
}

TEST_CASE("a plain head is parsed with its fields and framing", "[api][front][head]") {
  auto parsed = parse("POST /jobs?x=1 HTTP/1.1\r\nHost: a\r\nContent-Length: 12\r\nX-Thing: y\r\n\r\n");
  REQUIRE(std::holds_alternative<RequestHead>(parsed));
  const auto& head = std::get<RequestHead>(parsed);
  CHECK(head.method == "POST");
  CHECK(head.target == "/jobs?x=1");
  CHECK(head.framing == BodyFraming::kLength);
  CHECK(head.content_length == 12);
  CHECK(head.keep_alive);
  CHECK(head.field("x-thing") == "y");
  CHECK_FALSE(head.field("missing"));
}

TEST_CASE("no Content-Length and no chunked encoding means no body, whatever the method", "[api][front][head]") {
  auto parsed = parse("POST /jobs/X/cancel HTTP/1.1\r\nHost: a\r\n\r\n");
  REQUIRE(std::holds_alternative<RequestHead>(parsed));
  CHECK(std::get<RequestHead>(parsed).framing == BodyFraming::kNone);
}

TEST_CASE("framing that a proxy could read differently is refused", "[api][front][head]") {
  CHECK(statusOf("POST / HTTP/1.1\r\nContent-Length: -5\r\n\r\n") == 400);
  CHECK(statusOf("POST / HTTP/1.1\r\nContent-Length: +5\r\n\r\n") == 400);
  CHECK(statusOf("POST / HTTP/1.1\r\nContent-Length: 5x\r\n\r\n") == 400);
  CHECK(statusOf("POST / HTTP/1.1\r\nContent-Length: 5, 5\r\n\r\n") == 400);
  CHECK(statusOf("POST / HTTP/1.1\r\nContent-Length: \r\n\r\n") == 400);
  CHECK(statusOf("POST / HTTP/1.1\r\nContent-Length: 5\r\nContent-Length: 5\r\n\r\n") == 400);
  CHECK(statusOf("POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\nContent-Length: 5\r\n\r\n") == 400);
  CHECK(statusOf("POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n") == 400);
  CHECK(statusOf("POST / HTTP/1.1\r\nTransfer-Encoding: gzip, chunked\r\n\r\n") == 501);
  CHECK(statusOf("POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n") == 400);
}

TEST_CASE("field lines a proxy could read differently are refused", "[api][front][head]") {
  CHECK(statusOf("POST / HTTP/1.1\r\nContent-Length : 34\r\n\r\n") == 400);   // space before the colon
  CHECK(statusOf("POST / HTTP/1.1\r\n\rContent-Length: 34\r\n\r\n") == 400);  // a bare CR starts the line
  CHECK(statusOf("POST / HTTP/1.1\r\nX: a\r\n b\r\n\r\n") == 400);            // folding
  CHECK(statusOf("POST / HTTP/1.1\r\nno colon here\r\n\r\n") == 400);
  CHECK(statusOf("POST / HTTP/1.1\r\nContent-Length: =?utf-8?q?34?=\r\n\r\n") == 400);  // not digits
  CHECK(statusOf("POST / HTTP/1.1\r\nX: a\rb\r\n\r\n") == 400);                         // CR inside a value
  CHECK(statusOf("GET  / HTTP/1.1\r\n\r\n") == 400);                                    // two spaces
  CHECK(statusOf("GET / HTTP/1.1 extra\r\n\r\n") == 400);
  CHECK(statusOf("G@T / HTTP/1.1\r\n\r\n") == 400);
  auto parsed = parse("GET / HTTP/1.1\r\nX-Tabs:\t spaced value \t\r\n\r\n");
  REQUIRE(std::holds_alternative<RequestHead>(parsed));
  CHECK(std::get<RequestHead>(parsed).field("X-Tabs") == "spaced value");
}

TEST_CASE("a body larger than the limit is refused from its Content-Length alone", "[api][front][head]") {
  CHECK(statusOf("POST / HTTP/1.1\r\nContent-Length: 2147483648\r\n\r\n") == 413);
  CHECK(statusOf("POST / HTTP/1.1\r\nContent-Length: 99999999999999999999999999\r\n\r\n") == 413);
  CHECK(statusOf("POST / HTTP/1.1\r\nContent-Length: " + std::to_string(kMaxBody + 1) + "\r\n\r\n") == 413);
  CHECK(statusOf("POST / HTTP/1.1\r\nContent-Length: " + std::to_string(kMaxBody) + "\r\n\r\n") == 0);
}

TEST_CASE("too many fields get 431, other malformed heads 400 or 505", "[api][front][head]") {
  std::string head = "GET / HTTP/1.1\r\n";
  for (int i = 0; i < 100; ++i) head += "X-" + std::to_string(i) + ": v\r\n";
  CHECK(statusOf(head + "\r\n") == 0);  // exactly at the limit
  CHECK(statusOf(head + "X-last: v\r\n\r\n") == 431);
  CHECK(statusOf("GARBAGE\r\n\r\n") == 400);
  CHECK(statusOf("GET / HTTP/2.0\r\n\r\n") == 505);
  CHECK(statusOf("GET / FTP/1.0\r\n\r\n") == 400);
  CHECK(statusOf("GET relative HTTP/1.1\r\n\r\n") == 400);
  CHECK(statusOf(std::string("GET / HTTP/1.1\r\nX: a\0b\r\n\r\n", 27)) == 400);
}

TEST_CASE("keep-alive follows the version and the Connection field", "[api][front][head]") {
  auto keep = [](const std::string& head) { return std::get<RequestHead>(parse(head)).keep_alive; };
  CHECK(keep("GET / HTTP/1.1\r\n\r\n"));
  CHECK_FALSE(keep("GET / HTTP/1.1\r\nConnection: close\r\n\r\n"));
  CHECK_FALSE(keep("GET / HTTP/1.0\r\n\r\n"));
  CHECK(keep("GET / HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n"));
  CHECK(std::get<RequestHead>(parse("POST / HTTP/1.1\r\nExpect: 100-continue\r\nContent-Length: 3\r\n\r\n"))
            .expect_continue);
}

#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

namespace dray::api {

/// How the body of a request is delimited.
enum class BodyFraming { kNone, kLength, kChunked };

/// A parsed and checked request head: the request line and its fields.
struct RequestHead {
  std::string method;
  std::string target;   ///< as sent: path?query
  std::string version;  ///< "HTTP/1.0" or "HTTP/1.1"
  std::vector<std::pair<std::string, std::string>> fields;
  BodyFraming framing = BodyFraming::kNone;
  std::size_t content_length = 0;
  bool keep_alive = true;
  bool expect_continue = false;

  /// The first value of a field (names compare without case), or nullopt.
  std::optional<std::string> field(std::string_view name) const;
};

/// Why a head was refused: the status to answer with (the connection is closed after it).
struct HeadError {
  int status;
  std::string message;
};

/// Where the head ends in `buffer`: the offset just past the blank line, 0 while incomplete.
/// Leading empty lines (allowed before a request line) count as part of the head.
std::size_t findHeadEnd(std::string_view buffer);

/// Parses a complete head (up to and including its blank line) with Poco's HTTPRequest
/// and applies the framing rules that keep requests from being smuggled: one
/// Content-Length of digits only, no Transfer-Encoding together with it, only `chunked`.
/// Returns the head or the error to answer with (400, 413, 431, 501, 505).
std::variant<RequestHead, HeadError> parseRequestHead(std::string_view head, std::size_t max_fields,
                                                      std::size_t max_body);

}  // namespace dray::api

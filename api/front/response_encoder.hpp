#pragma once

#include <string>
#include <string_view>

#include "api/http_types.hpp"

namespace dray::api {

/// The head of one HTTP/1.1 response: status line with the reason phrase that belongs to
/// the status, Date, Content-Type/Length (none for 1xx, 204 and 304), Connection, then the
/// handler's own headers and the blank line. The body is sent as it is, never copied.
std::string encodeHead(const Response& response, bool keep_alive);

/// One piece of a chunked body in its chunk framing; "" for an empty piece.
std::string encodeChunk(std::string_view piece);

/// The end of a chunked body.
inline constexpr const char* kLastChunk = "0\r\n\r\n";

/// Whether a response with this status carries a body at all.
inline bool hasBody(int status) { return status >= 200 && status != 204 && status != 304; }

/// Head and body in one string, for small answers the front makes itself.
inline std::string encodeResponse(const Response& response, bool keep_alive) {
  return encodeHead(response, keep_alive) + (hasBody(response.status) ? response.body : "");
}

/// "HTTP/1.1 100 Continue" for a client that waits for it before sending its body.
inline constexpr const char* kContinueResponse = "HTTP/1.1 100 Continue\r\n\r\n";

}  // namespace dray::api

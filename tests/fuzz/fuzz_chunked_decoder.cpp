// Chunked request bodies as they arrive on a socket (api/front/chunked_decoder).
// (1) The input as a chunked body: fed whole, one byte at a time and in pieces cut by a
// seed from the input, the decoder gives the same result, the same body and the same end
// of the body (what follows is the next request), and never holds more than max_body; it
// accepts a body exactly when a plain reading of the documented grammar does.
// (2) The input as a body: encoded in chunks (sizes, hex case and extensions taken from the
// input) it decodes back to itself, or is refused as too large exactly when it is.
#include <cctype>
#include <optional>
#include <string>

#include "api/front/chunked_decoder.hpp"
#include "tests/fuzz/fuzz_support.hpp"

namespace {

using dray::api::ChunkedDecoder;
using Result = ChunkedDecoder::Result;

struct Decoded {
  Result result = Result::kNeedMore;
  std::string body;
  std::size_t end = 0;  ///< offset just past the body when kDone
};

Decoded decode(const std::vector<std::string_view>& pieces, std::size_t max_body) {
  ChunkedDecoder decoder(max_body);
  Decoded out;
  std::size_t offset = 0;
  for (std::string_view piece : pieces) {
    std::size_t consumed = 0;
    out.result = decoder.feed(piece, consumed, out.body);
    FUZZ_CHECK(out.body.size() <= max_body);
    if (out.result == Result::kDone) {
      FUZZ_CHECK(consumed <= piece.size());
      out.end = offset + consumed;
      return out;
    }
    if (out.result != Result::kNeedMore) return out;
    FUZZ_CHECK(consumed == piece.size());  // waiting for more: everything so far belongs to the body
    offset += piece.size();
  }
  return out;
}

bool same(const Decoded& a, const Decoded& b) {
  if (a.result != b.result) return false;
  // After a refusal the connection is closed: the partial body does not matter.
  if (a.result == Result::kTooLarge || a.result == Result::kMalformed) return true;
  return a.body == b.body && a.end == b.end;
}

// The documented grammar, read the plain way: a size line is 1-15 hex digits, then blanks,
// then the end or ";" and an extension; lines end in CRLF or LF; the data is followed by an
// empty line; after the "0" line, trailer lines up to an empty one. nullopt when the input
// holds no complete, valid body of at most max_body bytes. `skip` is set for inputs beside
// the grammar's point (lines near the decoder's 4 KiB line limit, over 100 trailers).
std::optional<Decoded> reference(std::string_view in, std::size_t max_body, bool& skip) {
  Decoded out;
  std::size_t at = 0;
  auto line = [&](std::string_view& text) {
    const std::size_t newline = in.find('\n', at);
    if (newline == std::string_view::npos) return false;
    text = in.substr(at, newline - at);
    at = newline + 1;
    if (text.size() > 4000) skip = true;
    if (!text.empty() && text.back() == '\r') text.remove_suffix(1);
    return true;
  };
  for (;;) {
    std::string_view size_line;
    if (!line(size_line)) return std::nullopt;
    std::size_t digits = 0, size = 0;
    while (digits < size_line.size() && std::isxdigit(static_cast<unsigned char>(size_line[digits]))) {
      if (digits == 15) {
        skip = true;
        return std::nullopt;
      }
      const char c = size_line[digits++];
      size = size * 16 + static_cast<std::size_t>(std::isdigit(c) ? c - '0' : std::tolower(c) - 'a' + 10);
    }
    if (digits == 0) return std::nullopt;
    std::size_t rest = digits;
    while (rest < size_line.size() && (size_line[rest] == ' ' || size_line[rest] == '\t')) ++rest;
    if (rest < size_line.size() && size_line[rest] != ';') return std::nullopt;
    if (size == 0) break;
    if (size > max_body - out.body.size() || size > in.size() - at) return std::nullopt;
    out.body.append(in.substr(at, size));
    at += size;
    std::string_view data_end;
    if (!line(data_end) || !data_end.empty()) return std::nullopt;
  }
  for (std::size_t trailers = 0;; ++trailers) {
    std::string_view trailer;
    if (!line(trailer)) return std::nullopt;
    if (trailer.empty()) break;
    if (trailers == 100) {
      skip = true;
      return std::nullopt;
    }
  }
  out.result = Result::kDone;
  out.end = at;
  return out;
}

std::string hex(std::size_t value, bool upper) {
  static const char* digits[] = {"0123456789abcdef", "0123456789ABCDEF"};
  std::string text;
  do {
    text.insert(text.begin(), digits[upper][value % 16]);
    value /= 16;
  } while (value);
  return text;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  const std::uint64_t hash = dray::fuzz::hashOf(input);

  for (std::size_t max_body : {std::size_t{1} << 20, std::size_t{16}}) {
    const Decoded whole = decode({input}, max_body);
    FUZZ_CHECK(same(decode(dray::fuzz::pieces(input, 0, 1), max_body), whole));
    FUZZ_CHECK(same(decode(dray::fuzz::pieces(input, hash, 64), max_body), whole));
    if (whole.result == Result::kDone) FUZZ_CHECK(whole.end <= input.size());
    // A body is accepted exactly when the grammar says it is complete and valid.
    bool skip = false;
    const auto expected = reference(input, max_body, skip);
    if (!skip && expected.has_value() != (whole.result == Result::kDone)) {
      std::fprintf(stderr, "decoder: %s, grammar: %s\n", whole.result == Result::kDone ? "done" : "not done",
                   expected ? "a complete body" : "no complete body");
      FUZZ_FAIL("the decoder accepts what the grammar accepts");
    }
    if (!skip && expected) FUZZ_CHECK(same(*expected, whole));
  }

  // Encode the input as a body and decode it again.
  std::string encoded;
  std::uint64_t state = hash | 1;
  for (std::size_t at = 0; at < input.size();) {
    state = state * 6364136223846793005ull + 1442695040888963407ull;
    const std::size_t chunk = std::min<std::size_t>(input.size() - at, 1 + (state >> 33) % 300);
    encoded += hex(chunk, state & 1);
    if (state & 2) encoded += ";ext=" + std::to_string(at);
    encoded += "\r\n";
    encoded.append(input.substr(at, chunk));
    encoded += "\r\n";
    at += chunk;
  }
  encoded += (state & 4) ? "0\r\nTrailer: x\r\n\r\n" : "0\r\n\r\n";
  encoded += "GET /next HTTP/1.1\r\n";  // the next request on the connection
  for (std::size_t max_body : {std::size_t{1} << 20, std::size_t{16}}) {
    const Decoded round = decode(dray::fuzz::pieces(encoded, hash, 100), max_body);
    if (input.size() > max_body) {
      FUZZ_CHECK(round.result == Result::kTooLarge);
    } else {
      FUZZ_CHECK(round.result == Result::kDone && round.body == input);
      FUZZ_CHECK(encoded.substr(round.end) == "GET /next HTTP/1.1\r\n");
    }
  }
  return 0;
}

// The router: request targets (path and query) as a client sends them, with and without
// bearer tokens. Input: "METHOD TARGET" on the first line; a second line, if present, is
// the Authorization field and turns authentication on.
// The target is split with Poco::URI exactly as api/front/connection.cpp does; the query
// parameters must survive being written back and read again. Every route of dray's role
// table is added with a handler that records what it got, and each answer is checked
// against a plain model of the documented rules: 200 from the first route whose segments
// and method match (placeholders capture their segment), else 405 with Allow listing the
// methods whose pattern matched, else 404; with tokens 401 without a valid one (public
// routes aside), 403 for a role below the route's, 404 for another user's job. Errors are
// JSON objects in valid UTF-8, and a "/v<N>" prefix changes nothing.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <string>

#include <Poco/JSON/Object.h>
#include <Poco/JSON/Parser.h>
#include <Poco/String.h>
#include <Poco/URI.h>

#include "api/access_policy.hpp"
#include "api/router.hpp"
#include "api/token_store.hpp"
#include "tests/fuzz/fuzz_support.hpp"

namespace {

using namespace dray::api;

struct Call {
  bool made = false;
  std::string method;
  std::string pattern;
  PathParams params;
};
Call last_call;

const char* kTokensFile =
    "admin admin admin-token-0123456789\n"
    "alice user user-token-alice-0123\n"
    "bob user user-token-bob-01234567\n"
    "reader read read-token-0123456789\n";

const TokenStore& tokens() {
  static const TokenStore store = [] {
    char path[] = "/tmp/dray-fuzz-tokens-XXXXXX";
    const int fd = mkstemp(path);  // mode 0600, as TokenStore::load insists
    FUZZ_CHECK(fd >= 0);
    FUZZ_CHECK(write(fd, kTokensFile, std::strlen(kTokensFile)) == static_cast<ssize_t>(std::strlen(kTokensFile)));
    close(fd);
    TokenStore loaded = TokenStore::load("", path);
    unlink(path);
    return loaded;
  }();
  return store;
}

std::optional<std::string> creatorOf(const std::string& id) {
  if (id == "JOB-ALICE") return "alice";
  if (id == "JOB-BOB") return "bob";
  return std::nullopt;
}

Router makeRouter(bool with_tokens) {
  Router router;
  for (const auto& row : routeAccessTable()) {
    router.add(row.method, row.pattern, [row](const Request&, const PathParams& params) {
      last_call = Call{true, row.method, row.pattern, params};
      return Response{200, "ok", "text/plain", {}};
    });
  }
  if (with_tokens) {
    router.setAuthentication(&tokens(), false);
    router.setCreatorLookup(creatorOf);
  }
  return router;
}

bool isVersion(const std::string& segment) {
  return segment.size() > 1 && segment[0] == 'v' && segment.find_first_not_of("0123456789", 1) == std::string::npos;
}

std::vector<std::string> split(const std::string& text) {
  std::vector<std::string> segments;
  std::size_t start = 0;
  while (start <= text.size()) {
    std::size_t end = text.find('/', start);
    if (end == std::string::npos) end = text.size();
    if (end > start) segments.push_back(text.substr(start, end - start));
    start = end + 1;
  }
  return segments;
}

std::optional<PathParams> matchModel(const std::string& pattern, const std::vector<std::string>& segments) {
  const auto parts = split(pattern);
  if (parts.size() != segments.size()) return std::nullopt;
  PathParams params;
  for (std::size_t i = 0; i < parts.size(); ++i) {
    if (parts[i].front() == '{') {
      params.push_back(segments[i]);
    } else if (parts[i] != segments[i]) {
      return std::nullopt;
    }
  }
  return params;
}

void checkError(const Response& response) {
  FUZZ_CHECK(response.content_type == "application/json");
  FUZZ_CHECK(dray::fuzz::validUtf8(response.body));
  try {
    Poco::JSON::Parser parser;
    auto object = parser.parse(response.body).extract<Poco::JSON::Object::Ptr>();
    FUZZ_CHECK(object->get("error").isString());
  } catch (const Poco::Exception&) {
    FUZZ_FAIL("an error body is a JSON object with an error string");
  }
}

// What the rules say the answer is.
int expectedStatus(const Request& request, bool with_tokens, std::string& allow, Call& call) {
  const auto segments = routeSegments(request.path);
  std::vector<std::string> matched_methods;
  const RouteAccess* found = nullptr;
  for (const auto& row : routeAccessTable()) {
    auto params = matchModel(row.pattern, segments);
    if (!params) continue;
    if (row.method == request.method) {
      found = &row;
      call = Call{true, row.method, row.pattern, *params};
      break;
    }
    matched_methods.push_back(row.method);
  }
  for (const auto& m : matched_methods) allow += (allow.empty() ? "" : ", ") + m;
  if (with_tokens && !(found && found->access == Access::kPublic)) {
    const std::string header = request.header("Authorization");
    std::optional<Caller> caller;
    if (header.size() > 7 && Poco::icompare(header.substr(0, 7), "Bearer ") == 0) {
      const std::string token = Poco::trim(header.substr(7));
      if (!token.empty()) caller = tokens().find(token);
    }
    if (!caller) return 401;
    if (found && !roleAllows(caller->role, found->access)) return 403;
    if (found && caller->role == Role::kUser && found->job_scoped && creatorOf(call.params.front()) != caller->name) {
      return 404;
    }
  }
  if (found) return 200;
  return matched_methods.empty() ? 404 : 405;
}

Response dispatch(const Router& router, Request request) {
  try {
    return router.dispatch(request);
  } catch (...) {
    FUZZ_FAIL("Router::dispatch threw");  // documented: never throws
  }
}

void check(const Router& router, const Request& request, bool with_tokens) {
  // routeSegments is the documented split: non-empty segments, one leading /v<N> dropped.
  auto segments = split(request.path);
  if (!segments.empty() && isVersion(segments.front())) segments.erase(segments.begin());
  FUZZ_CHECK(routeSegments(request.path) == segments);

  last_call = Call{};
  const Response response = dispatch(router, request);
  std::string allow;
  Call expected_call;
  const int expected = expectedStatus(request, with_tokens, allow, expected_call);
  if (response.status != expected) {
    std::fprintf(stderr, "%s %s: status %d, expected %d (%s)\n", request.method.c_str(), request.path.c_str(),
                 response.status, expected, response.body.c_str());
    FUZZ_FAIL("status as the rules say");
  }
  if (expected == 200) {
    FUZZ_CHECK(last_call.made && last_call.method == expected_call.method &&
               last_call.pattern == expected_call.pattern && last_call.params == expected_call.params);
    for (const auto& param : last_call.params) FUZZ_CHECK(!param.empty() && param.find('/') == std::string::npos);
    return;
  }
  FUZZ_CHECK(!last_call.made);
  checkError(response);
  if (expected == 405) {
    FUZZ_CHECK(response.headers.size() == 1 && response.headers[0].first == "Allow" &&
               response.headers[0].second == allow);
  }
  if (expected == 401) FUZZ_CHECK(response.headers.size() == 1 && response.headers[0].first == "WWW-Authenticate");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string input(reinterpret_cast<const char*>(data), size);
  const std::size_t newline = input.find('\n');
  const std::string request_line = input.substr(0, newline);
  const bool with_tokens = newline != std::string::npos;
  const std::size_t space = request_line.find(' ');
  if (space == std::string::npos) return 0;

  Request request;
  request.method = request_line.substr(0, space);
  const std::string target = request_line.substr(space + 1);
  if (with_tokens) request.headers.emplace_back("Authorization", input.substr(newline + 1));

  // As api/front/connection.cpp's splitTarget (a throw there is a 400 before routing).
  Poco::URI::QueryParameters query;
  try {
    Poco::URI uri(target);
    request.path = uri.getPath();
    query = uri.getQueryParameters();
  } catch (const std::exception&) {
    return 0;
  }
  for (auto& [key, value] : query) request.query.emplace(key, value);

  // Parameters written back (as dray-cli and the web UI build them) read the same.
  if (std::all_of(query.begin(), query.end(), [](const auto& p) { return !p.first.empty(); })) {
    Poco::URI rebuilt("/jobs");
    rebuilt.setQueryParameters(query);
    if (Poco::URI(rebuilt.toString()).getQueryParameters() != query) {
      std::fprintf(stderr, "query %s does not read back\n", rebuilt.toString().c_str());
      FUZZ_FAIL("query parameters read back");
    }
  }

  static const Router open_router = makeRouter(false);
  static const Router token_router = makeRouter(true);
  const Router& router = with_tokens ? token_router : open_router;
  check(router, request, with_tokens);

  // A version prefix changes nothing (unless the path already starts with one).
  auto segments = split(request.path);
  if (!request.path.starts_with('/') || (!segments.empty() && isVersion(segments.front()))) return 0;
  Request versioned = request;
  versioned.path = "/v9" + request.path;
  check(router, versioned, with_tokens);
  return 0;
}

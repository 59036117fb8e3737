#include "api/ui_routes.hpp"

#include <fstream>
#include <regex>
#include <sstream>
#include <stdexcept>

#include <Poco/DigestEngine.h>
#include <Poco/DirectoryIterator.h>
#include <Poco/File.h>
#include <Poco/Net/MediaType.h>
#include <Poco/NumberParser.h>
#include <Poco/Path.h>
#include <Poco/SHA1Engine.h>
#include <Poco/String.h>
#include <Poco/StringTokenizer.h>

namespace dray::api {
namespace {

// Scripts, styles, images and requests from this origin only; nothing inline, no frames,
// no forms posting elsewhere. The UI sets element styles through the CSSOM, which this allows.
constexpr const char* kContentSecurityPolicy =
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; "
    "base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

std::string contentTypeOf(const std::string& name) {
  static const std::map<std::string, std::string> types = {
      {"html", "text/html; charset=utf-8"},
      {"js", "text/javascript; charset=utf-8"},
      {"css", "text/css; charset=utf-8"},
      {"svg", "image/svg+xml"},
      {"png", "image/png"},
      {"json", "application/json"},
      {"txt", "text/plain; charset=utf-8"},
  };
  const auto it = types.find(Poco::toLower(Poco::Path(name).getExtension()));
  if (it == types.end()) throw std::runtime_error("ui file '" + name + "' has no known content type");
  return it->second;
}

std::string readWhole(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream body;
  body << in.rdbuf();
  if (!in && !in.eof()) throw std::runtime_error("cannot read ui file " + path);
  return std::move(body).str();
}

std::string etagOf(const std::string& body) {
  Poco::SHA1Engine sha1;
  sha1.update(body);
  const std::string hex = Poco::DigestEngine::digestToHex(sha1.digest());
  std::string etag(1, '"');
  etag.append(hex, 0, 20);
  etag.push_back('"');
  return etag;
}

// Whether an If-None-Match field names this ETag (or is "*").
bool matchesEtag(const std::string& if_none_match, const std::string& etag) {
  Poco::StringTokenizer tags(if_none_match, ",",
                             Poco::StringTokenizer::TOK_TRIM | Poco::StringTokenizer::TOK_IGNORE_EMPTY);
  for (const auto& tag : tags) {
    const std::string weakless = tag.rfind("W/", 0) == 0 ? tag.substr(2) : tag;
    if (weakless == etag || weakless == "*") return true;
  }
  return false;
}

Response redirect(int status, const std::string& location) {
  Response response{status, "", "", {{"Location", location}}};
  return response;
}

// "/ui" or "//v1//ui" as "/ui/" or "/v1/ui/": never "//…", which a browser would read as
// another host.
std::string canonicalDirectory(const std::string& path) {
  std::string location;
  Poco::StringTokenizer segments(path, "/", Poco::StringTokenizer::TOK_IGNORE_EMPTY);
  for (const auto& segment : segments) location += "/" + segment;
  return location + "/";
}

Response serveAsset(const UiAssets& assets, const std::string& name, const Request& request) {
  const UiAssets::Asset* asset = assets.find(name);
  if (!asset) return errorResponse(404, "no such file in the web UI: " + name);
  Response response{200, asset->body, asset->content_type, {}};
  if (matchesEtag(request.header("If-None-Match"), asset->etag)) {
    response.status = 304;
    response.body.clear();
  }
  // Revalidated on every use (a 304 costs one round trip): an upgraded dray serves its new UI
  // at once, without file names that carry versions.
  response.headers = {{"ETag", asset->etag},
                      {"Cache-Control", "no-cache"},
                      {"Content-Security-Policy", kContentSecurityPolicy},
                      {"X-Content-Type-Options", "nosniff"},
                      {"Referrer-Policy", "no-referrer"}};
  return response;
}

double qualityOf(const Poco::Net::MediaType& type) {
  double quality = 1.0;
  if (type.hasParameter("q")) Poco::NumberParser::tryParseFloat(type.getParameter("q"), quality);
  return quality;
}

}  // namespace

UiAssets UiAssets::load(const std::string& dir, std::size_t max_bytes) {
  UiAssets assets;
  if (dir.empty() || !Poco::File(dir).exists()) return assets;
  static const std::regex plain_name("[A-Za-z0-9][A-Za-z0-9._-]*");
  std::size_t total = 0;
  for (Poco::DirectoryIterator it(dir), end; it != end; ++it) {
    if (!it->isFile() || !std::regex_match(it.name(), plain_name)) continue;
    if (it.name() == "CMakeLists.txt") continue;  // the build's, not the UI's
    Asset asset{readWhole(it->path()), contentTypeOf(it.name()), ""};
    total += asset.body.size();
    if (total > max_bytes)
      throw std::runtime_error("the web UI in " + dir + " is over " + std::to_string(max_bytes) + " bytes");
    asset.etag = etagOf(asset.body);
    assets.files_.emplace(it.name(), std::move(asset));
  }
  return assets;
}

const UiAssets::Asset* UiAssets::find(const std::string& name) const {
  const auto it = files_.find(name);
  return it == files_.end() ? nullptr : &it->second;
}

bool prefersHtml(const std::string& accept) {
  double html = 0;
  double json = 0;
  Poco::StringTokenizer entries(accept, ",", Poco::StringTokenizer::TOK_TRIM | Poco::StringTokenizer::TOK_IGNORE_EMPTY);
  for (const auto& entry : entries) {
    try {
      Poco::Net::MediaType type(entry);
      if (type.matches("text", "html")) html = std::max(html, qualityOf(type));
      if (type.matches("application", "json")) json = std::max(json, qualityOf(type));
    } catch (const Poco::Exception&) {
      // An entry that is not a media type says nothing about HTML.
    }
  }
  return html > 0 && html >= json;
}

void addUiRoutes(Router& router, std::shared_ptr<const UiAssets> assets) {
  router.add("GET", "/ui/{file}", [assets](const Request& request, const PathParams& params) {
    return serveAsset(*assets, params.at(0), request);
  });
  router.add("GET", "/ui", [assets](const Request& request, const PathParams&) {
    if (request.path.empty() || request.path.back() != '/') return redirect(301, canonicalDirectory(request.path));
    return serveAsset(*assets, "index.html", request);
  });
  router.add("GET", "/", [assets](const Request& request, const PathParams&) {
    Response response = !assets->empty() && prefersHtml(request.header("Accept"))
                            ? redirect(302, "/ui/")
                            : errorResponse(404, "no such endpoint: GET " + request.path);
    // The answer depends on Accept: no cache may give a browser's answer to another client.
    response.headers.emplace_back("Vary", "Accept");
    response.headers.emplace_back("Cache-Control", "no-store");
    return response;
  });
}

}  // namespace dray::api

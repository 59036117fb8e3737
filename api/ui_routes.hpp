#pragma once

#include <cstddef>
#include <map>
#include <memory>
#include <string>

#include "api/router.hpp"

namespace dray::api {

/// The web UI's static files (ui/ in the source tree, share/dray/ui when installed), read
/// once at start. Serving from memory keeps a request from ever naming a path on disk, and
/// lets the ETag be computed once per file.
class UiAssets {
 public:
  struct Asset {
    std::string body;
    std::string content_type;
    std::string etag;  ///< quoted, from the content's SHA-1
  };

  /// Every regular file directly in `dir` whose name is a plain file name. A missing
  /// directory gives no assets (the UI then answers 404); more than `max_bytes` in all
  /// throws std::runtime_error, as does a file with an extension without a known type.
  static UiAssets load(const std::string& dir, std::size_t max_bytes = 16u << 20);

  const Asset* find(const std::string& name) const;
  bool empty() const { return files_.empty(); }
  std::size_t size() const { return files_.size(); }

 private:
  std::map<std::string, Asset> files_;
};

/// Whether an Accept header prefers an HTML page to JSON (a browser's navigation), so that
/// `GET /` can send browsers to the UI while API clients keep today's answer.
bool prefersHtml(const std::string& accept);

/// GET /ui/{file} and GET /ui (index.html; "/ui" redirects to "/ui/" so that the page's
/// relative links resolve), with ETag, Cache-Control and a Content-Security-Policy that
/// allows scripts, styles and requests from this origin only. GET / redirects browsers to
/// /ui/ and answers 404 to everyone else, as before.
void addUiRoutes(Router& router, std::shared_ptr<const UiAssets> assets);

}  // namespace dray::api

#pragma once

#include <string>

#include "api/front/front_options.hpp"
#include "api/token_store.hpp"

namespace dray::api {

/// What the API layer reads from the environment: the front's address, limits and TLS,
/// and who may call it.
struct ApiSettings {
  FrontOptions front;
  TokenStore tokens;
  bool metrics_public = false;  ///< DRAY_METRICS_PUBLIC=1: /metrics needs no token
  std::string ui_dir;           ///< DRAY_UI_DIR: the web UI's files; empty: no UI
};

/// Reads DRAY_LISTEN, DRAY_TOKEN, DRAY_TOKENS_FILE, DRAY_METRICS_PUBLIC, DRAY_TLS_CERT,
/// DRAY_TLS_KEY, DRAY_TLS_CLIENT_CA, DRAY_MAX_CONNECTIONS_PER_IP, DRAY_MAX_CONNECTIONS,
/// DRAY_HEADER_TIMEOUT, DRAY_BODY_TIMEOUT, DRAY_IDLE_TIMEOUT, DRAY_MAX_HEADER_BYTES and
/// DRAY_MAX_HEADER_FIELDS and DRAY_UI_DIR (`default_ui_dir` when unset); `port`, `max_body`
/// and `handler_threads` come from the core configuration. Throws std::invalid_argument
/// naming the bad setting.
ApiSettings loadApiSettings(std::uint16_t port, std::size_t max_body, unsigned handler_threads,
                            const std::string& default_ui_dir = "");

/// True for 127.0.0.0/8 and ::1 (no warning about running without tokens there).
bool isLoopbackAddress(const std::string& address);

}  // namespace dray::api

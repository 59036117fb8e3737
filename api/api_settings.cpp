#include "api/api_settings.hpp"

#include <stdexcept>

#include <Poco/Net/IPAddress.h>

#include "core/config.hpp"

namespace dray::api {
namespace {

// Unset or empty: the fallback; else parsed and checked as core's settings are.
std::size_t readCount(const std::string& name, std::size_t fallback, std::size_t min, std::size_t max) {
  std::string text = core::envOr(name, "");
  return text.empty() ? fallback : core::parseNumber(name, text, min, max);
}

std::chrono::milliseconds readTimeout(const std::string& name, std::chrono::milliseconds fallback) {
  std::string text = core::envOr(name, "");
  if (text.empty()) return fallback;
  return std::chrono::milliseconds(static_cast<long>(core::parseSeconds(name, text, 0.01, 86400) * 1000));
}

bool readFlag(const std::string& name) {
  std::string text = core::envOr(name, "");
  if (text.empty() || text == "0" || text == "false") return false;
  if (text == "1" || text == "true") return true;
  throw std::invalid_argument(name + " must be 1/true or 0/false, got '" + text + "'");
}

}  // namespace

bool isLoopbackAddress(const std::string& address) {
  Poco::Net::IPAddress ip;
  return Poco::Net::IPAddress::tryParse(address, ip) && ip.isLoopback();
}

ApiSettings loadApiSettings(std::uint16_t port, std::size_t max_body, unsigned handler_threads,
                            const std::string& default_ui_dir) {
  ApiSettings settings;
  FrontOptions& front = settings.front;
  front.port = port;
  front.max_body = max_body;
  front.handler_threads = handler_threads;
  front.listen_address = core::envOr("DRAY_LISTEN", "0.0.0.0");
  Poco::Net::IPAddress parsed;
  if (!Poco::Net::IPAddress::tryParse(front.listen_address, parsed)) {
    throw std::invalid_argument("DRAY_LISTEN must be an IP address (e.g. 127.0.0.1 or 0.0.0.0), got '" +
                                front.listen_address + "'");
  }
  front.max_connections_per_ip = readCount("DRAY_MAX_CONNECTIONS_PER_IP", 64, 1, 100000);
  front.max_connections = readCount("DRAY_MAX_CONNECTIONS", 4096, 1, 1000000);
  front.max_header_bytes = readCount("DRAY_MAX_HEADER_BYTES", 16 * 1024, 1024, 1 << 20);
  front.max_header_fields = readCount("DRAY_MAX_HEADER_FIELDS", 100, 8, 10000);
  front.header_timeout = readTimeout("DRAY_HEADER_TIMEOUT", std::chrono::seconds(10));
  front.body_timeout = readTimeout("DRAY_BODY_TIMEOUT", std::chrono::seconds(30));
  front.idle_timeout = readTimeout("DRAY_IDLE_TIMEOUT", std::chrono::seconds(60));
  front.tls.certificate_file = core::envOr("DRAY_TLS_CERT", "");
  front.tls.private_key_file = core::envOr("DRAY_TLS_KEY", "");
  front.tls.client_ca_file = core::envOr("DRAY_TLS_CLIENT_CA", "");
  if (front.tls.certificate_file.empty() != front.tls.private_key_file.empty()) {
    throw std::invalid_argument("DRAY_TLS_CERT and DRAY_TLS_KEY go together: set both or neither");
  }
  if (!front.tls.client_ca_file.empty() && !front.tls.enabled()) {
    throw std::invalid_argument("DRAY_TLS_CLIENT_CA needs DRAY_TLS_CERT and DRAY_TLS_KEY");
  }
  settings.tokens = TokenStore::load(core::envOr("DRAY_TOKEN", ""), core::envOr("DRAY_TOKENS_FILE", ""));
  settings.metrics_public = readFlag("DRAY_METRICS_PUBLIC");
  settings.ui_dir = core::envOr("DRAY_UI_DIR", default_ui_dir);
  return settings;
}

}  // namespace dray::api

#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string>

namespace dray::api {

/// Where the front listens and how TLS is set up. Empty cert/key: plain HTTP.
struct TlsOptions {
  std::string certificate_file;  ///< PEM, DRAY_TLS_CERT
  std::string private_key_file;  ///< PEM, DRAY_TLS_KEY
  std::string client_ca_file;    ///< PEM, DRAY_TLS_CLIENT_CA: when set, clients must present a certificate
  bool enabled() const { return !certificate_file.empty(); }
};

/// Limits of the HTTP front. Every one is a setting (see api_settings.cpp) and has a test at its edge.
struct FrontOptions {
  std::string listen_address = "0.0.0.0";
  std::uint16_t port = 3000;
  std::size_t max_body = 1 << 20;            ///< larger Content-Length: 413 without reading the body
  std::size_t max_header_bytes = 16 * 1024;  ///< request line + fields; beyond it 431
  std::size_t max_header_fields = 100;       ///< beyond it 431
  std::size_t max_connections_per_ip = 64;
  std::size_t max_connections = 4096;               ///< all clients together
  std::chrono::milliseconds header_timeout{10000};  ///< the whole head must arrive within this
  std::chrono::milliseconds body_timeout{30000};    ///< longest pause between body reads (and writes)
  std::chrono::milliseconds idle_timeout{60000};    ///< a keep-alive connection with no request
  unsigned handler_threads = 20;                    ///< threads that run handlers on complete requests
  TlsOptions tls;
};

}  // namespace dray::api

#pragma once

#include <cstddef>
#include <memory>
#include <string>

#include <Poco/Net/Context.h>

#include "api/front/front_options.hpp"

typedef struct ssl_st SSL;

namespace dray::api {

/// The server's TLS settings, loaded once through Poco's NetSSL (certificate, key,
/// optional client CA for mTLS, TLS 1.2 at least). Throws with a clear message when a file
/// cannot be used.
Poco::Net::Context::Ptr makeServerTlsContext(const TlsOptions& options);

/// One connection's TLS state over a non-blocking socket. The front's I/O thread drives
/// it: each call does what it can without blocking and says what it waits for.
class TlsSession {
 public:
  enum class Io { kOk, kWantRead, kWantWrite, kClosed, kError };

  TlsSession(const Poco::Net::Context::Ptr& context, int fd);
  ~TlsSession();
  TlsSession(const TlsSession&) = delete;
  TlsSession& operator=(const TlsSession&) = delete;

  Io handshake();
  /// Reads decrypted bytes into `buffer`; `got` > 0 only with kOk.
  Io read(char* buffer, std::size_t capacity, std::size_t& got);
  /// Writes from `data`; `written` may be less than `size` (partial writes are on).
  Io write(const char* data, std::size_t size, std::size_t& written);
  /// Sends close_notify, best effort.
  void close();
  /// What went wrong last (OpenSSL's error queue), for the debug log.
  const std::string& error() const { return error_; }

 private:
  Io result(int ret);

  SSL* ssl_;
  std::string error_;
};

}  // namespace dray::api

#include "api/front/tls_session.hpp"

#include <openssl/err.h>
#include <openssl/ssl.h>

#include <Poco/Exception.h>
#include <Poco/Net/SSLManager.h>

namespace dray::api {

Poco::Net::Context::Ptr makeServerTlsContext(const TlsOptions& options) {
  Poco::Net::initializeSSL();
  Poco::Net::Context::Params params;
  params.privateKeyFile = options.private_key_file;
  params.certificateFile = options.certificate_file;
  params.caLocation = options.client_ca_file;
  // With a client CA every client must present a certificate signed by it (mTLS).
  params.verificationMode =
      options.client_ca_file.empty() ? Poco::Net::Context::VERIFY_NONE : Poco::Net::Context::VERIFY_STRICT;
  params.loadDefaultCAs = false;
  params.cipherList = "HIGH:!aNULL:!MD5:!RC4:!3DES";
  try {
    Poco::Net::Context::Ptr context = new Poco::Net::Context(Poco::Net::Context::TLS_SERVER_USE, params);
    context->requireMinimumProtocol(Poco::Net::Context::PROTO_TLSV1_2);
    // OpenSSL drops a key that does not belong to the certificate without an error; every
    // handshake would then fail. Refuse it here instead.
    if (SSL_CTX_check_private_key(context->sslContext()) != 1) {
      ERR_clear_error();
      throw std::runtime_error("cannot set up TLS from DRAY_TLS_CERT/DRAY_TLS_KEY/DRAY_TLS_CLIENT_CA: the key in " +
                               options.private_key_file + " does not belong to the certificate in " +
                               options.certificate_file);
    }
    return context;
  } catch (const Poco::Exception& e) {
    throw std::runtime_error("cannot set up TLS from DRAY_TLS_CERT/DRAY_TLS_KEY/DRAY_TLS_CLIENT_CA: " +
                             e.displayText());
  }
}

TlsSession::TlsSession(const Poco::Net::Context::Ptr& context, int fd) : ssl_(SSL_new(context->sslContext())) {
  if (!ssl_) throw std::runtime_error("SSL_new failed");
  SSL_set_fd(ssl_, fd);
  SSL_set_mode(ssl_, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
  SSL_set_accept_state(ssl_);
}

TlsSession::~TlsSession() { SSL_free(ssl_); }

TlsSession::Io TlsSession::result(int ret) {
  switch (SSL_get_error(ssl_, ret)) {
    case SSL_ERROR_WANT_READ:
      return Io::kWantRead;
    case SSL_ERROR_WANT_WRITE:
      return Io::kWantWrite;
    case SSL_ERROR_ZERO_RETURN:
      return Io::kClosed;
    default: {
      char text[256];
      unsigned long code = ERR_get_error();
      error_ = code ? ERR_error_string(code, text) : "connection closed during TLS";
      ERR_clear_error();
      return Io::kError;
    }
  }
}

TlsSession::Io TlsSession::handshake() {
  ERR_clear_error();
  int ret = SSL_do_handshake(ssl_);
  return ret == 1 ? Io::kOk : result(ret);
}

TlsSession::Io TlsSession::read(char* buffer, std::size_t capacity, std::size_t& got) {
  ERR_clear_error();
  got = 0;
  int ret = SSL_read_ex(ssl_, buffer, capacity, &got);
  return ret == 1 ? Io::kOk : result(ret);
}

TlsSession::Io TlsSession::write(const char* data, std::size_t size, std::size_t& written) {
  ERR_clear_error();
  written = 0;
  int ret = SSL_write_ex(ssl_, data, size, &written);
  return ret == 1 ? Io::kOk : result(ret);
}

void TlsSession::close() {
  ERR_clear_error();
  SSL_shutdown(ssl_);
  ERR_clear_error();
}

}  // namespace dray::api

#include "core/webhook_signature.hpp"

#include <sstream>
#include <stdexcept>

#include <Poco/Base64Decoder.h>
#include <Poco/Base64Encoder.h>
#include <Poco/HMACEngine.h>
#include <Poco/SHA2Engine.h>

namespace dray::core {
namespace {

constexpr std::string_view kSecretPrefix = "whsec_";

// Poco's HMACEngine wants the block and digest sizes its SHA-1/MD5 engines declare.
class Sha256 : public Poco::SHA2Engine {
 public:
  enum { BLOCK_SIZE = 64, DIGEST_SIZE = 32 };
  Sha256() : Poco::SHA2Engine(SHA_256) {}
};

std::string base64(const Poco::DigestEngine::Digest& bytes) {
  std::ostringstream out;
  Poco::Base64Encoder encoder(out);
  encoder.rdbuf()->setLineLength(0);
  encoder.write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
  encoder.close();
  return out.str();
}

}  // namespace

std::string webhookKey(const std::string& secret) {
  if (!secret.starts_with(kSecretPrefix)) throw std::invalid_argument("must start with whsec_");
  const std::string encoded = secret.substr(kSecretPrefix.size());
  if (encoded.find_first_not_of("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/=") !=
          std::string::npos ||
      encoded.size() % 4 != 0) {
    throw std::invalid_argument("must be whsec_ followed by standard base64");
  }
  std::istringstream in(encoded);
  Poco::Base64Decoder decoder(in);
  std::string key((std::istreambuf_iterator<char>(decoder)), std::istreambuf_iterator<char>());
  if (key.size() < 24 || key.size() > 64) throw std::invalid_argument("must hold a key of 24 to 64 bytes");
  return key;
}

std::string webhookSignature(const std::string& key, const std::string& id, std::int64_t timestamp,
                             const std::string& body) {
  Poco::HMACEngine<Sha256> hmac(key);
  const std::string prefix = id + "." + std::to_string(timestamp) + ".";
  hmac.update(prefix);
  hmac.update(body);
  return "v1," + base64(hmac.digest());
}

}  // namespace dray::core

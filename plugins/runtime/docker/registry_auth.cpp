#include "plugins/runtime/docker/registry_auth.hpp"

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

#include <Poco/Base64Decoder.h>
#include <Poco/Base64Encoder.h>
#include <Poco/JSON/Object.h>
#include <Poco/JSON/Parser.h>

#include "dray/sdk/errors.hpp"

namespace dray::plugins::runtime::docker {
namespace {

// A config.json is a few kilobytes; the bound keeps a wrong path (a device, a log) from
// being read whole at start-up.
constexpr std::size_t kMaxConfigBytes = 1 << 20;

std::string lower(std::string text) {
  std::transform(text.begin(), text.end(), text.begin(), [](unsigned char c) { return std::tolower(c); });
  return text;
}

bool startsWith(const std::string& text, const char* prefix) { return text.rfind(prefix, 0) == 0; }

[[noreturn]] void refuse(const std::string& source, const std::string& reason) {
  throw sdk::ConfigError("cannot use the Docker config file " + source + " (DOCKER_CONFIG_FILE): " + reason);
}

// "user:password" from the base64 `auth` of an entry; the password may hold colons.
bool decodeAuth(const std::string& encoded, std::string& user, std::string& password) {
  std::string decoded;
  try {
    std::istringstream in(encoded);
    Poco::Base64Decoder decoder(in);
    decoded.assign(std::istreambuf_iterator<char>(decoder), std::istreambuf_iterator<char>());
  } catch (const std::exception&) {
    return false;
  }
  const auto colon = decoded.find(':');
  if (colon == std::string::npos || colon == 0) return false;
  user = decoded.substr(0, colon);
  password = decoded.substr(colon + 1);
  return true;
}

}  // namespace

std::string normalizeRegistry(const std::string& key) {
  std::string host = lower(key);
  if (startsWith(host, "http://")) {
    host.erase(0, 7);
  } else if (startsWith(host, "https://")) {
    host.erase(0, 8);
  }
  host = host.substr(0, host.find('/'));
  if (host == "docker.io" || host == "index.docker.io" || host == "registry-1.docker.io") return kDockerHubRegistry;
  return host;
}

std::string registryOfImage(const std::string& image) {
  const auto slash = image.find('/');
  if (slash == std::string::npos) return kDockerHubRegistry;
  const std::string first = image.substr(0, slash);
  // Docker's rule: "team/app" is a Docker Hub path, "host:5000/app" and "ghcr.io/x" are not.
  if (first.find_first_of(".:") == std::string::npos && first != "localhost") return kDockerHubRegistry;
  return normalizeRegistry(first);
}

std::string registryAuthHeader(const RegistryCredentials& credentials) {
  Poco::JSON::Object body;
  body.set("username", credentials.username);
  body.set("password", credentials.password);
  body.set("serveraddress", credentials.server_address);
  std::ostringstream json;
  body.stringify(json);
  std::ostringstream encoded;
  Poco::Base64Encoder encoder(encoded, Poco::BASE64_URL_ENCODING);
  encoder.rdbuf()->setLineLength(0);  // one header line, not 72-column chunks
  encoder << json.str();
  encoder.close();
  return encoded.str();
}

RegistryAuth RegistryAuth::parse(const std::string& json_text, const std::string& source) {
  Poco::JSON::Object::Ptr root;
  try {
    Poco::JSON::Parser parser;
    root = parser.parse(json_text).extract<Poco::JSON::Object::Ptr>();
  } catch (const std::exception&) {
    refuse(source, "not a JSON object");  // the parser's message may quote the content
  }
  if (!root) refuse(source, "not a JSON object");
  RegistryAuth auth;
  try {
    auth.read(*root, source);
  } catch (const sdk::ConfigError&) {
    throw;
  } catch (const std::exception&) {
    refuse(source, "an entry has the wrong type");
  }
  return auth;
}

void RegistryAuth::read(const Poco::JSON::Object& root, const std::string& source) {
  if (root.has("credsStore") && !root.get("credsStore").toString().empty()) uses_helpers_ = true;
  if (root.has("credHelpers")) uses_helpers_ = true;
  if (!root.has("auths")) return;
  auto auths = root.getObject("auths");
  if (!auths) refuse(source, "\"auths\" is not an object");
  std::map<std::string, bool> exact;  // whether an entry's key was already in normal form
  for (const auto& [key, value] : *auths) {
    const std::string registry = normalizeRegistry(key);
    if (registry.empty()) refuse(source, "an \"auths\" key names no registry");
    Poco::JSON::Object::Ptr entry;
    try {
      entry = value.extract<Poco::JSON::Object::Ptr>();
    } catch (const std::exception&) {
      refuse(source, "the entry for " + registry + " is not an object");
    }
    RegistryCredentials credentials{registry, "", ""};
    const std::string encoded = entry->optValue<std::string>("auth", "");
    if (!encoded.empty()) {
      if (!decodeAuth(encoded, credentials.username, credentials.password)) {
        refuse(source, "the \"auth\" of " + registry + " is not base64 of user:password");
      }
    } else {
      credentials.username = entry->optValue<std::string>("username", "");
      credentials.password = entry->optValue<std::string>("password", "");
      if (credentials.username.empty() || credentials.password.empty()) continue;  // a helper's placeholder
    }
    // Two spellings of one registry: the one already in normal form wins, as in the CLI,
    // which looks the exact key up before comparing normalised ones.
    const bool is_exact = key == registry;
    auto found = exact.find(registry);
    if (found != exact.end() && (found->second || !is_exact)) continue;
    exact[registry] = is_exact;
    by_registry_[registry] = std::move(credentials);
  }
}

RegistryAuth RegistryAuth::load(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) refuse(path, std::strerror(errno));
  std::string text(kMaxConfigBytes + 1, '\0');
  in.read(text.data(), static_cast<std::streamsize>(text.size()));
  if (in.bad()) refuse(path, "cannot be read");  // e.g. a directory
  text.resize(static_cast<std::size_t>(in.gcount()));
  if (text.size() > kMaxConfigBytes) refuse(path, "larger than 1 MiB");
  return parse(text, path);
}

const RegistryCredentials* RegistryAuth::find(const std::string& image) const {
  auto found = by_registry_.find(registryOfImage(image));
  return found == by_registry_.end() ? nullptr : &found->second;
}

}  // namespace dray::plugins::runtime::docker

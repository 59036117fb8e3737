#pragma once

#include <cstddef>
#include <map>
#include <string>

namespace Poco::JSON {
class Object;
}

namespace dray::plugins::runtime::docker {

/// Docker Hub's key in a config.json, as the docker CLI writes and looks it up.
inline constexpr const char* kDockerHubRegistry = "https://index.docker.io/v1/";

/// A user and password for one registry. Holds a secret: never log or return it.
struct RegistryCredentials {
  std::string server_address;  ///< the registry, normalised (normalizeRegistry)
  std::string username;
  std::string password;
};

/// A config.json `auths` key or a registry host in one form, as the docker CLI compares
/// them: scheme and path dropped, host lower-cased ("https://127.0.0.1:5000/v2/" and
/// "127.0.0.1:5000" -> "127.0.0.1:5000"); every Docker Hub spelling -> kDockerHubRegistry.
std::string normalizeRegistry(const std::string& key);

/// The registry an image reference pulls from, normalised: the first path component when it
/// looks like a host (has a '.' or ':', or is "localhost"), else Docker Hub.
std::string registryOfImage(const std::string& image);

/// The value of the engine's X-Registry-Auth header: base64url (padded) of
/// {"username","password","serveraddress"}. A secret: never log it.
std::string registryAuthHeader(const RegistryCredentials& credentials);

/// The `auths` of a Docker CLI config.json (DOCKER_CONFIG_FILE), by normalised registry.
/// `credsStore` and `credHelpers` are not used (usesHelpers() tells whether the file names
/// any, so the plugin can say so once). Immutable after load: thread-safe.
class RegistryAuth {
 public:
  RegistryAuth() = default;  ///< no credentials at all

  /// Parses config.json text. Entries without `auth` (nor `username` and `password`) are
  /// skipped: the CLI writes empty ones when a helper holds the secret. Throws
  /// sdk::ConfigError naming `source` and the registry, never the file's content.
  static RegistryAuth parse(const std::string& json_text, const std::string& source);

  /// Reads and parses the file at `path`; unreadable, malformed: sdk::ConfigError.
  static RegistryAuth load(const std::string& path);

  /// The credentials for the registry `image` comes from, or nullptr.
  const RegistryCredentials* find(const std::string& image) const;

  bool usesHelpers() const { return uses_helpers_; }
  std::size_t size() const { return by_registry_.size(); }

 private:
  void read(const Poco::JSON::Object& root, const std::string& source);

  std::map<std::string, RegistryCredentials> by_registry_;
  bool uses_helpers_ = false;
};

}  // namespace dray::plugins::runtime::docker

#include "plugins/storage/redis/redis_address.hpp"

#include <Poco/NumberParser.h>
#include <Poco/URI.h>

#include "dray/sdk/errors.hpp"

namespace dray::plugins::storage::redis {
namespace {

int parsePort(const std::string& text, const std::string& what) {
  int port = 0;
  if (!Poco::NumberParser::tryParse(text, port) || port < 1 || port > 65535) {
    throw sdk::ConfigError(what + ": '" + text + "' is not a port number");
  }
  return port;
}

}  // namespace

std::string RedisAddress::describe() const { return host + ":" + std::to_string(port) + "/" + std::to_string(db); }

RedisAddress parseRedisUrl(const std::string& url) {
  RedisAddress address;
  try {
    Poco::URI uri(url);
    if (uri.getScheme() != "redis" || uri.getHost().empty()) throw sdk::ConfigError("");
    address.host = uri.getHost();
    if (uri.getPort() != 0) address.port = uri.getPort();
    const std::string& info = uri.getUserInfo();
    if (auto colon = info.find(':'); colon != std::string::npos) {
      address.password = info.substr(colon + 1);
    } else if (!info.empty()) {
      address.password = info;  // redis://secret@host is a common shorthand
    }
    std::string path = uri.getPath();
    if (!path.empty() && path != "/") {
      if (!Poco::NumberParser::tryParse(path.substr(1), address.db) || address.db < 0) throw sdk::ConfigError("");
    }
  } catch (const std::exception&) {
    throw sdk::ConfigError("REDIS_URL must look like redis://[:password@]host:port[/db], got '" + url + "'");
  }
  return address;
}

RedisAddress parseRedisPort(const std::string& value) {
  RedisAddress address;
  std::string rest = value;
  if (rest.rfind("tcp://", 0) == 0) rest = rest.substr(6);
  auto colon = rest.rfind(':');
  if (colon == std::string::npos) {
    address.port = parsePort(rest, "REDIS_PORT");
  } else {
    address.host = rest.substr(0, colon);
    address.port = parsePort(rest.substr(colon + 1), "REDIS_PORT");
  }
  if (address.host.empty()) throw sdk::ConfigError("REDIS_PORT must look like tcp://host:port, got '" + value + "'");
  return address;
}

}  // namespace dray::plugins::storage::redis

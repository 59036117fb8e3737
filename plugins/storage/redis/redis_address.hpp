#pragma once

#include <string>

namespace dray::plugins::storage::redis {

/// Where Redis is and how to log in.
struct RedisAddress {
  std::string host = "127.0.0.1";
  int port = 6379;
  std::string password;  ///< empty: no AUTH
  int db = 0;            ///< SELECTed after connecting

  /// "host:port/db", never the password.
  std::string describe() const;
};

/// Parses REDIS_URL: redis://[[user]:password@]host[:port][/db].
/// Throws sdk::ConfigError naming the value.
RedisAddress parseRedisUrl(const std::string& url);

/// Parses the original's link-style REDIS_PORT: tcp://host:port (a bare port or
/// host:port also works). Throws sdk::ConfigError.
RedisAddress parseRedisPort(const std::string& value);

}  // namespace dray::plugins::storage::redis

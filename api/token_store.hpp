#pragma once

#include <array>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "api/http_types.hpp"

namespace dray::api {

/// The bearer tokens dray accepts, each with a name and a role. Holds only SHA-256
/// digests of the tokens, and compares a presented token against every one of them in
/// constant time, so neither memory dumps nor response timing give a token away.
class TokenStore {
 public:
  /// Minimum token length: a shorter one could be guessed over the network.
  static constexpr std::size_t kMinTokenLength = 16;

  /// From DRAY_TOKEN (one admin token named "default") and/or DRAY_TOKENS_FILE (lines of
  /// `name role token`; `#` comments and blank lines allowed; roles admin, user, read).
  /// Both empty: authentication is off. Throws std::invalid_argument naming the problem
  /// (never quoting a token) for a malformed file, a file that others than its owner may
  /// read or write, duplicate names or tokens, or a token shorter than kMinTokenLength.
  static TokenStore load(const std::string& single_token, const std::string& tokens_file);

  bool enabled() const { return !entries_.empty(); }
  std::size_t size() const { return entries_.size(); }

  /// Who holds `token`, or nullopt.
  std::optional<Caller> find(std::string_view token) const;

 private:
  using Digest = std::array<unsigned char, 32>;
  struct Entry {
    Caller caller;
    Digest digest;
  };

  static Digest digestOf(std::string_view token);
  void add(Caller caller, std::string_view token, const std::string& where);

  std::vector<Entry> entries_;
};

/// "admin", "user", "read" -> Role; nullopt for anything else.
std::optional<Role> parseRole(const std::string& text);
const char* roleName(Role role);

}  // namespace dray::api

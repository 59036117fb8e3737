#include "api/token_store.hpp"

#include <sys/stat.h>

#include <fstream>
#include <sstream>
#include <stdexcept>

#include <Poco/SHA2Engine.h>

namespace dray::api {
namespace {

void checkFileMode(const std::string& path) {
  struct stat info {};
  if (::stat(path.c_str(), &info) != 0) throw std::invalid_argument("DRAY_TOKENS_FILE " + path + " cannot be read");
  if (!S_ISREG(info.st_mode)) throw std::invalid_argument("DRAY_TOKENS_FILE " + path + " is not a regular file");
  if (info.st_mode & (S_IRWXG | S_IRWXO)) {
    char mode[8];
    std::snprintf(mode, sizeof mode, "%04o", static_cast<unsigned>(info.st_mode & 07777));
    throw std::invalid_argument("DRAY_TOKENS_FILE " + path + " has mode " + mode +
                                ": others than its owner may read it; make it 0400 or 0600");
  }
}

bool validName(const std::string& name) {
  if (name.empty() || name.size() > 64) return false;
  for (unsigned char c : name) {
    if (!std::isalnum(c) && c != '-' && c != '_' && c != '.' && c != '@') return false;
  }
  return true;
}

}  // namespace

std::optional<Role> parseRole(const std::string& text) {
  if (text == "admin") return Role::kAdmin;
  if (text == "user") return Role::kUser;
  if (text == "read") return Role::kRead;
  return std::nullopt;
}

const char* roleName(Role role) {
  switch (role) {
    case Role::kAdmin:
      return "admin";
    case Role::kUser:
      return "user";
    case Role::kRead:
      return "read";
  }
  return "?";
}

TokenStore::Digest TokenStore::digestOf(std::string_view token) {
  Poco::SHA2Engine engine(Poco::SHA2Engine::SHA_256);
  engine.update(token.data(), static_cast<unsigned>(token.size()));
  const auto& bytes = engine.digest();
  Digest digest{};
  std::copy(bytes.begin(), bytes.end(), digest.begin());
  return digest;
}

void TokenStore::add(Caller caller, std::string_view token, const std::string& where) {
  if (token.size() < kMinTokenLength) {
    throw std::invalid_argument(where + ": the token is shorter than " + std::to_string(kMinTokenLength) +
                                " characters");
  }
  Digest digest = digestOf(token);
  for (const auto& entry : entries_) {
    if (entry.caller.name == caller.name)
      throw std::invalid_argument(where + ": the name '" + caller.name + "' is used twice");
    if (entry.digest == digest) throw std::invalid_argument(where + ": the same token is given to two names");
  }
  entries_.push_back({std::move(caller), digest});
}

TokenStore TokenStore::load(const std::string& single_token, const std::string& tokens_file) {
  TokenStore store;
  if (!single_token.empty()) store.add({"default", Role::kAdmin}, single_token, "DRAY_TOKEN");
  if (tokens_file.empty()) return store;
  checkFileMode(tokens_file);
  std::ifstream in(tokens_file);
  if (!in) throw std::invalid_argument("DRAY_TOKENS_FILE " + tokens_file + " cannot be read");
  std::string line;
  for (int number = 1; std::getline(in, line); ++number) {
    const std::string where = "DRAY_TOKENS_FILE " + tokens_file + " line " + std::to_string(number);
    std::istringstream fields(line);
    std::string name, role, token, extra;
    if (!(fields >> name) || name.front() == '#') continue;
    if (!(fields >> role >> token) || (fields >> extra)) {
      throw std::invalid_argument(where + ": expected 'name role token'");
    }
    if (!validName(name)) throw std::invalid_argument(where + ": the name must be 1-64 letters, digits or -_.@");
    auto parsed = parseRole(role);
    if (!parsed) {
      // A long "role" is most likely a token in the wrong column: never quote it.
      throw std::invalid_argument(
          where + ": the role must be admin, user or read, got " +
          (role.size() < kMinTokenLength
               ? "'" + role + "'"
               : "a " + std::to_string(role.size()) + "-character word (columns are 'name role token')"));
    }
    store.add({name, *parsed}, token, where);
  }
  if (!store.enabled()) throw std::invalid_argument("DRAY_TOKENS_FILE " + tokens_file + " holds no token");
  return store;
}

std::optional<Caller> TokenStore::find(std::string_view token) const {
  const Digest presented = digestOf(token);
  // Every entry is compared in full, whatever matched: the time taken says nothing.
  const Entry* found = nullptr;
  for (const auto& entry : entries_) {
    unsigned char difference = 0;
    for (std::size_t i = 0; i < presented.size(); ++i)
      difference |= static_cast<unsigned char>(presented[i] ^ entry.digest[i]);
    if (difference == 0) found = &entry;
  }
  if (!found) return std::nullopt;
  return found->caller;
}

}  // namespace dray::api

#pragma once

// What the auth and TLS tests share: the tokens dray is started with and small helpers.
#include <sys/stat.h>

#include <fstream>
#include <string>
#include <vector>

#include "tests/support/test_support.hpp"

namespace dray::test::auth {

inline const std::string kAdminToken = "admin-token-5d41402abc4b2a76";
inline const std::string kAliceToken = "alice-token-7d793037a0760186";
inline const std::string kBobToken = "bob-token-0cc175b9c0f1b6a831";
inline const std::string kReaderToken = "reader-token-92eb5ffee6ae2fec";
inline const std::string kWrongToken = "wrong-token-e4da3b7fbbce2345";
inline const std::vector<std::string> kAllTokens{kAdminToken, kAliceToken, kBobToken, kReaderToken, kWrongToken};

inline const char* const kQuickJob =
    R"({"name":"quick","steps":[{"source":"dray-test/randword","environment":[{"variable":"WORD_COUNT","value":"1"}]}]})";
inline const char* const kSleepJob =
    R"({"name":"sleepy","steps":[{"source":"dray-test/script","environment":[{"variable":"SCRIPT","value":"sleep 60"}]}]})";

inline std::string writeFile(const TempDir& dir, const std::string& name, const std::string& text, mode_t mode = 0600) {
  std::string path = dir.path() + "/" + name;
  std::ofstream(path) << text;
  ::chmod(path.c_str(), mode);
  return path;
}

// admin "default" from DRAY_TOKEN; alice and bob (user) and reader (read) from the file.
inline EnvMap authEnv(const TempDir& dir) {
  std::string file = writeFile(dir, "tokens",
                               "# name role token\n"
                               "alice  user " +
                                   kAliceToken +
                                   "\n"
                                   "bob    user " +
                                   kBobToken +
                                   "\n\n"
                                   "reader read " +
                                   kReaderToken + "\n");
  return {{"DRAY_LISTEN", "127.0.0.1"}, {"DRAY_TOKEN", kAdminToken}, {"DRAY_TOKENS_FILE", file}};
}

inline bool contains(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

}  // namespace dray::test::auth

#pragma once

// A job step running shell code in the dray-test/script image (tests/images/script).
#include <string>

namespace dray::test {

/// The step's JSON: SCRIPT holds `code`; `extra` adds fields (`,"output":"/x"`).
inline std::string scriptStep(const std::string& code, const std::string& extra = "") {
  std::string escaped;
  for (char c : code) {
    if (c == '"' || c == '\\') escaped += '\\';
    escaped += c;
  }
  return R"({"source":"dray-test/script","environment":[{"variable":"SCRIPT","value":")" + escaped + R"("}])" + extra +
         "}";
}

}  // namespace dray::test

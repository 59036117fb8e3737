// Shared by the fuzz targets: invariant checks that crash loudly, and deterministic chunking.
#pragma once

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <string_view>
#include <vector>

namespace dray::fuzz {

[[noreturn]] inline void fail(const char* condition, const char* file, int line) {
  std::fprintf(stderr, "fuzz invariant broken: %s (%s:%d)\n", condition, file, line);
  std::fflush(stderr);
  __builtin_trap();  // libFuzzer saves the input as a crash artifact
}

// Cuts `data` into pieces whose sizes come from `seed` (1..max_piece bytes each), so a
// target can compare "fed whole" with "fed in pieces" for many different cuttings.
inline std::vector<std::string_view> pieces(std::string_view data, std::uint64_t seed, std::size_t max_piece) {
  std::vector<std::string_view> out;
  std::uint64_t state = seed * 0x9E3779B97F4A7C15ull + 1;
  while (!data.empty()) {
    state ^= state << 13;
    state ^= state >> 7;
    state ^= state << 17;
    const std::size_t size = std::min<std::size_t>(data.size(), 1 + state % max_piece);
    out.push_back(data.substr(0, size));
    data.remove_prefix(size);
  }
  return out;
}

// FNV-1a: a chunking seed from the input itself, for targets whose input has no room for one.
inline std::uint64_t hashOf(std::string_view data) {
  std::uint64_t hash = 0xcbf29ce484222325ull;
  for (unsigned char c : data) hash = (hash ^ c) * 0x100000001b3ull;
  return hash;
}

// Well-formed UTF-8 (no overlong forms, surrogates or code points past U+10FFFF).
inline bool validUtf8(std::string_view text) {
  std::size_t i = 0;
  while (i < text.size()) {
    const auto c = static_cast<unsigned char>(text[i]);
    const std::size_t length = c < 0x80 ? 1 : (c >> 5) == 0x6 ? 2 : (c >> 4) == 0xe ? 3 : (c >> 3) == 0x1e ? 4 : 0;
    if (length == 0 || i + length > text.size()) return false;
    std::uint32_t code = length == 1 ? c : c & (0x7f >> length);
    for (std::size_t k = 1; k < length; ++k) {
      const auto next = static_cast<unsigned char>(text[i + k]);
      if ((next & 0xc0) != 0x80) return false;
      code = (code << 6) | (next & 0x3f);
    }
    const std::uint32_t minimum[] = {0, 0, 0x80, 0x800, 0x10000};
    if (code < minimum[length] || code > 0x10ffff || (code >= 0xd800 && code <= 0xdfff)) return false;
    i += length;
  }
  return true;
}

}  // namespace dray::fuzz

// Checked in every build type: a broken invariant is what the fuzzer is looking for.
#define FUZZ_CHECK(condition)                                             \
  do {                                                                    \
    if (!(condition)) ::dray::fuzz::fail(#condition, __FILE__, __LINE__); \
  } while (0)

#define FUZZ_FAIL(what) ::dray::fuzz::fail(what, __FILE__, __LINE__)

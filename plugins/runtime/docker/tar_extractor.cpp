#include "tar_extractor.hpp"

#include <algorithm>
#include <array>
#include <cstdint>

#include "dray/sdk/errors.hpp"

namespace dray::plugins::runtime::docker {
namespace {

constexpr std::size_t kBlock = 512;

// Size field: octal text, or GNU base-256 when the top bit of the first byte is set.
std::uint64_t entrySize(const char* field) {
  const auto* bytes = reinterpret_cast<const unsigned char*>(field);
  std::uint64_t size = 0;
  if (bytes[0] & 0x80) {
    for (int i = 1; i < 12; ++i) size = (size << 8) | bytes[i];
    return size;
  }
  for (int i = 0; i < 12 && field[i]; ++i) {
    if (field[i] == ' ') continue;
    if (field[i] < '0' || field[i] > '7') throw sdk::EngineError("malformed tar header from the engine");
    size = size * 8 + static_cast<std::uint64_t>(field[i] - '0');
  }
  return size;
}

void readExactly(std::istream& in, char* buffer, std::size_t n) {
  in.read(buffer, static_cast<std::streamsize>(n));
  if (static_cast<std::size_t>(in.gcount()) != n) throw sdk::EngineError("truncated tar archive from the engine");
}

// Copies (or skips, when sink is null) `size` bytes plus the padding to the next block.
void copyEntry(std::istream& in, std::uint64_t size, sdk::ByteSink* sink) {
  std::array<char, 64 * 1024> buffer;
  std::uint64_t padded = (size + kBlock - 1) / kBlock * kBlock;
  std::uint64_t done = 0;
  while (done < padded) {
    std::size_t n = static_cast<std::size_t>(std::min<std::uint64_t>(buffer.size(), padded - done));
    readExactly(in, buffer.data(), n);
    if (sink && done < size) {
      sink->write(std::string_view(buffer.data(), static_cast<std::size_t>(std::min<std::uint64_t>(n, size - done))));
    }
    done += n;
  }
}

}  // namespace

bool extractFirstRegularFile(std::istream& tar, sdk::ByteSink& sink) {
  std::array<char, kBlock> header;
  for (;;) {
    tar.read(header.data(), kBlock);
    if (tar.gcount() == 0) return false;
    if (static_cast<std::size_t>(tar.gcount()) != kBlock) throw sdk::EngineError("truncated tar archive from the engine");
    if (std::all_of(header.begin(), header.end(), [](char c) { return c == 0; })) return false;
    const char type = header[156];
    const std::uint64_t size = entrySize(header.data() + 124);
    const bool regular = type == '0' || type == '\0' || type == '7';
    copyEntry(tar, size, regular ? &sink : nullptr);
    if (regular) return true;
  }
}

}  // namespace dray::plugins::runtime::docker

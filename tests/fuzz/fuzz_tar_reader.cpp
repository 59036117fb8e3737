// The tar reader behind "copy a file out of the exited container": archives as the engine
// (or something pretending to be it) sends them. Checks that only EngineError comes out,
// and that when it answers it read exactly the top entry: a regular file's bytes are the
// ones its header announces, in slices of at most 64 KiB, nothing is streamed for other
// kinds, and the stream is left right after the entry (or its header).
#include <cstring>
#include <optional>
#include <sstream>
#include <string>

#include "dray/sdk/errors.hpp"
#include "plugins/runtime/docker/tar_extractor.hpp"
#include "tests/fuzz/fuzz_support.hpp"

namespace {

using dray::plugins::runtime::docker::readTopEntry;
using dray::plugins::runtime::docker::TarEntryKind;
using dray::plugins::runtime::docker::TarTopEntry;

constexpr std::size_t kBlock = 512;

class RecordingSink final : public dray::sdk::ByteSink {
 public:
  void write(std::string_view chunk) override {
    FUZZ_CHECK(!chunk.empty() && chunk.size() <= 64 * 1024);
    data.append(chunk);
  }
  std::string data;
};

// The size field read independently: octal (spaces allowed), or GNU base-256 when the top
// bit is set. nullopt when it is not a size at all (bad digit, negative, 2^63 or more).
std::optional<std::uint64_t> sizeField(const unsigned char* field) {
  std::uint64_t size = 0;
  if (field[0] & 0x80) {
    if (field[0] & 0x40) return std::nullopt;  // negative in base-256
    size = field[0] & 0x3f;
    for (int i = 1; i < 12; ++i) {
      if (size >> 56) return std::nullopt;
      size = (size << 8) | field[i];
    }
    return size >> 63 ? std::nullopt : std::optional(size);  // no archive is 2^63 bytes long
  }
  for (int i = 0; i < 12 && field[i]; ++i) {
    if (field[i] == ' ') continue;
    if (field[i] < '0' || field[i] > '7') return std::nullopt;
    size = size * 8 + (field[i] - '0');
  }
  return size;
}

std::uint64_t padded(std::uint64_t size) { return size + (kBlock - size % kBlock) % kBlock; }

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string archive(reinterpret_cast<const char*>(data), size);
  std::istringstream in(archive);
  RecordingSink sink;
  TarTopEntry entry;
  try {
    entry = readTopEntry(in, sink);
  } catch (const dray::sdk::EngineError&) {
    return 0;  // "truncated/malformed archive": the step fails with that message
  }

  // Walk the headers the way the format says, to where the top entry must be.
  std::size_t at = 0;
  bool had_link_metadata = false;
  for (;;) {
    if (at == archive.size()) {
      FUZZ_CHECK(entry.kind == TarEntryKind::kNone && sink.data.empty());
      return 0;
    }
    FUZZ_CHECK(at + kBlock <= archive.size());  // a partial header must have been refused
    const auto* header = reinterpret_cast<const unsigned char*>(archive.data() + at);
    if (std::all_of(header, header + kBlock, [](unsigned char c) { return c == 0; })) {
      FUZZ_CHECK(entry.kind == TarEntryKind::kNone && sink.data.empty());
      FUZZ_CHECK(static_cast<std::size_t>(in.tellg()) == at + kBlock);
      return 0;
    }
    const auto entry_size = sizeField(header + 124);
    const char type = static_cast<char>(header[156]);
    const bool metadata = type == 'x' || type == 'g' || type == 'K' || type == 'L';
    // The size of an entry whose data is read must be a size (others are not looked at).
    if (metadata || entry.kind == TarEntryKind::kRegular) FUZZ_CHECK(entry_size.has_value());
    if (metadata) {
      FUZZ_CHECK(*entry_size <= (1u << 20));
      had_link_metadata = had_link_metadata || type == 'x' || type == 'K';
      at += kBlock + padded(*entry_size);
      FUZZ_CHECK(at <= archive.size());
      continue;
    }
    FUZZ_CHECK(entry.kind != TarEntryKind::kNone);
    if (entry.kind == TarEntryKind::kRegular) {
      FUZZ_CHECK(padded(*entry_size) <= archive.size() - at - kBlock);
      FUZZ_CHECK(sink.data == archive.substr(at + kBlock, *entry_size));
      FUZZ_CHECK(static_cast<std::size_t>(in.tellg()) == at + kBlock + padded(*entry_size));
    } else {
      FUZZ_CHECK(sink.data.empty());
      FUZZ_CHECK(static_cast<std::size_t>(in.tellg()) == at + kBlock);
      if (!had_link_metadata) {
        const char* link = archive.data() + at + 157;
        FUZZ_CHECK(entry.link_target == std::string(link, strnlen(link, 100)));
      }
    }
    return 0;
  }
}

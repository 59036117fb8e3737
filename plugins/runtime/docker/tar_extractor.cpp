#include "plugins/runtime/docker/tar_extractor.hpp"

#include <algorithm>
#include <array>
#include <cstdint>
#include <cstring>

#include "dray/sdk/errors.hpp"

namespace dray::plugins::runtime::docker {
namespace {

constexpr std::size_t kBlock = 512;

// Size field: octal text, or GNU base-256 when the top bit of the first byte is set.
std::uint64_t entrySize(const char* field) {
  const auto* bytes = reinterpret_cast<const unsigned char*>(field);
  std::uint64_t size = 0;
  if (bytes[0] & 0x80) {
    // Base-256 has room for 95 bits and a sign: a negative size, or one of 2^63 bytes or
    // more, is malformed (its high bits would be shifted away, and rounding it up to whole
    // blocks would wrap, each reading as a small size).
    if (bytes[0] != 0x80 || bytes[1] || bytes[2] || bytes[3] || (bytes[4] & 0x80)) {
      throw sdk::EngineError("malformed tar header from the engine");
    }
    for (int i = 4; i < 12; ++i) size = (size << 8) | bytes[i];
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

// Streams `size` bytes into `sink` and reads the padding to the next block.
void copyEntry(std::istream& in, std::uint64_t size, sdk::ByteSink& sink) {
  std::array<char, 64 * 1024> buffer;
  std::uint64_t padded = (size + kBlock - 1) / kBlock * kBlock;
  std::uint64_t done = 0;
  while (done < padded) {
    std::size_t n = static_cast<std::size_t>(std::min<std::uint64_t>(buffer.size(), padded - done));
    readExactly(in, buffer.data(), n);
    if (done < size) {
      sink.write(std::string_view(buffer.data(), static_cast<std::size_t>(std::min<std::uint64_t>(n, size - done))));
    }
    done += n;
  }
}

// A metadata entry's payload (PAX records, a GNU long name): small, so read whole.
std::string readMetadata(std::istream& in, std::uint64_t size) {
  constexpr std::uint64_t kMaxMetadata = 1 << 20;  // far above any real path; bounds memory
  if (size > kMaxMetadata) throw sdk::EngineError("oversized tar metadata from the engine");
  std::string text(static_cast<std::size_t>((size + kBlock - 1) / kBlock * kBlock), '\0');
  readExactly(in, text.data(), text.size());
  text.resize(static_cast<std::size_t>(size));
  return text;
}

// The value of `key` in PAX extended-header records ("<length> <key>=<value>\n" each).
std::string paxValue(std::string_view records, std::string_view key) {
  while (!records.empty()) {
    const std::size_t space = records.find(' ');
    if (space == std::string_view::npos) break;
    std::size_t length = 0;
    for (char digit : records.substr(0, space)) {
      if (digit < '0' || digit > '9') return "";
      length = length * 10 + static_cast<std::size_t>(digit - '0');
    }
    if (length < space + 2 || length > records.size()) break;
    const std::string_view record = records.substr(space + 1, length - space - 2);  // without the '\n'
    if (record.size() > key.size() && record.starts_with(key) && record[key.size()] == '=') {
      return std::string(record.substr(key.size() + 1));
    }
    records.remove_prefix(length);
  }
  return "";
}

TarEntryKind kindOf(char type) {
  switch (type) {
    case '0':
    case '\0':
    case '7':
      return TarEntryKind::kRegular;
    case '1':
      return TarEntryKind::kHardLink;
    case '2':
      return TarEntryKind::kSymlink;
    case '3':
      return TarEntryKind::kCharDevice;
    case '4':
      return TarEntryKind::kBlockDevice;
    case '5':
      return TarEntryKind::kDirectory;
    case '6':
      return TarEntryKind::kFifo;
    default:
      return TarEntryKind::kOther;
  }
}

}  // namespace

TarTopEntry readTopEntry(std::istream& tar, sdk::ByteSink& sink) {
  std::array<char, kBlock> header;
  std::string long_link;  // from a GNU 'K' entry or a PAX "linkpath" before the entry
  for (;;) {
    tar.read(header.data(), kBlock);
    if (tar.gcount() == 0) return {};
    if (static_cast<std::size_t>(tar.gcount()) != kBlock)
      throw sdk::EngineError("truncated tar archive from the engine");
    if (std::all_of(header.begin(), header.end(), [](char c) { return c == 0; })) return {};
    const char type = header[156];
    const std::uint64_t size = entrySize(header.data() + 124);
    if (type == 'x' || type == 'g' || type == 'K' || type == 'L') {
      const std::string meta = readMetadata(tar, size);
      if (type == 'K') long_link = meta.c_str();  // NUL-terminated
      if (type == 'x') {
        if (std::string link = paxValue(meta, "linkpath"); !link.empty()) long_link = link;
      }
      continue;
    }
    TarTopEntry entry{kindOf(type), long_link};
    if (entry.link_target.empty()) entry.link_target.assign(header.data() + 157, strnlen(header.data() + 157, 100));
    // The rest of the archive is left unread: the client drains it.
    if (entry.kind == TarEntryKind::kRegular) copyEntry(tar, size, sink);
    return entry;
  }
}

std::string_view describe(TarEntryKind kind) {
  switch (kind) {
    case TarEntryKind::kNone:
      return "something the engine cannot archive (a socket?)";
    case TarEntryKind::kRegular:
      return "a regular file";
    case TarEntryKind::kHardLink:
      return "a hard link";
    case TarEntryKind::kSymlink:
      return "a symbolic link";
    case TarEntryKind::kCharDevice:
      return "a character device";
    case TarEntryKind::kBlockDevice:
      return "a block device";
    case TarEntryKind::kDirectory:
      return "a directory";
    case TarEntryKind::kFifo:
      return "a FIFO (named pipe)";
    case TarEntryKind::kOther:
      break;
  }
  return "not a regular file";
}

}  // namespace dray::plugins::runtime::docker

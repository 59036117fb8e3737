// The log path allocates per chunk, never per line. A binary of its own, because it
// replaces the global operator new to count allocations made on the counting thread.
#include <atomic>
#include <cstdlib>
#include <new>

#include <catch2/catch.hpp>

#include "core/job_log.hpp"
#include "dray/sdk/storage.hpp"
#include "tests/fakes/null_storage.hpp"

namespace {

thread_local bool counting = false;
thread_local std::size_t allocations = 0;

// Takes the lines like a storage plugin would, but keeps only a count and their bytes, so
// every allocation seen comes from the log path itself.
class CountingStorage final : public dray::test::NullStorage {
 public:
  using NullStorage::appendLog;
  void appendLog(const std::string&, std::span<const std::string_view> lines) override {
    for (std::string_view line : lines) {
      ++lines_;
      bytes_ += line.size();
    }
  }

  std::size_t lines_ = 0;
  std::size_t bytes_ = 0;
};

}  // namespace

void* operator new(std::size_t size) {
  if (counting) ++allocations;
  if (void* p = std::malloc(size ? size : 1)) return p;
  throw std::bad_alloc();
}
// The nothrow forms too (Catch2 uses them): a sanitizer runtime brings its own, whose memory
// the free() above must not release.
void* operator new(std::size_t size, const std::nothrow_t&) noexcept {
  if (counting) ++allocations;
  return std::malloc(size ? size : 1);
}
void operator delete(void* p) noexcept { std::free(p); }
void operator delete(void* p, std::size_t) noexcept { std::free(p); }
void operator delete(void* p, const std::nothrow_t&) noexcept { std::free(p); }

TEST_CASE("logging chunked output allocates per chunk, not per line", "[core][joblog]") {
  std::string text;
  // Longer than std::string's small-buffer size, so a copy per line would allocate.
  for (int i = 0; i < 100000; ++i) text += "output line number " + std::to_string(i) + "\n";
  CountingStorage storage;
  dray::core::JobLogBudget budget{SIZE_MAX};
  dray::core::JobLogWriter writer(storage, "J", budget);
  constexpr std::size_t kChunk = 32 * 1024;                   // about one attach frame; lines straddle chunks
  writer.onStdout(std::string_view(text).substr(0, kChunk));  // warms the reused buffers up
  counting = true;
  std::size_t chunks = 0;
  for (std::size_t at = kChunk; at < text.size(); at += kChunk, ++chunks) {
    writer.onStdout(std::string_view(text).substr(at, kChunk));
  }
  writer.finish();
  counting = false;
  CHECK(storage.lines_ == 100000);
  CHECK(storage.bytes_ == text.size() - 100000);
  INFO(allocations << " allocations for " << chunks << " chunks");
  CHECK(allocations <= chunks);  // in practice 0: buffers are reused
}

TEST_CASE("masking secrets keeps the log path free of per-line allocations", "[core][joblog][secrets]") {
  std::string text;
  for (int i = 0; i < 100000; ++i) {
    text += "output line number " + std::to_string(i) + (i % 10 == 0 ? " token=hunter22-secret" : "") + "\n";
  }
  CountingStorage storage;
  const dray::core::SecretMasker masker({"hunter22-secret", "another-secret-value"});
  dray::core::JobLogBudget budget{SIZE_MAX};
  dray::core::JobLogWriter writer(storage, "J", budget, &masker);
  constexpr std::size_t kChunk = 32 * 1024;
  writer.onStdout(std::string_view(text).substr(0, kChunk));
  counting = true;
  std::size_t chunks = 0;
  for (std::size_t at = kChunk; at < text.size(); at += kChunk, ++chunks) {
    writer.onStdout(std::string_view(text).substr(at, kChunk));
  }
  writer.finish();
  counting = false;
  CHECK(storage.lines_ == 100000);
  // Each masked line shrinks by the secret's length minus "***".
  CHECK(storage.bytes_ == text.size() - 100000 - 10000 * (std::string("hunter22-secret").size() - 3));
  INFO(allocations << " allocations for " << chunks << " chunks");
  CHECK(allocations <= chunks);
}

#include "core/stream_pipe.hpp"

#include <atomic>
#include <string>
#include <thread>

#include <catch2/catch.hpp>

#include "tests/support/test_support.hpp"

using dray::core::StreamPipe;
using namespace std::chrono_literals;

namespace {

std::string readAll(dray::sdk::ByteSource& source) {
  std::string out;
  char buffer[1000];
  while (std::size_t n = source.read(buffer, sizeof buffer)) out.append(buffer, n);
  return out;
}

}  // namespace

TEST_CASE("a stream pipe passes every byte in order through a buffer smaller than the data", "[unit][stream]") {
  StreamPipe pipe(4096);
  std::string sent;
  for (int i = 0; i < 20000; ++i) sent += std::to_string(i) + ",";
  std::thread writer([&] {
    for (std::size_t at = 0; at < sent.size(); at += 777) pipe.writer().write(std::string_view(sent).substr(at, 777));
    pipe.closeWriter();
  });
  CHECK(readAll(pipe.reader()) == sent);
  writer.join();
  CHECK(pipe.bytesRead() == sent.size());
}

TEST_CASE("a full stream pipe holds its writer back until the reader takes data", "[unit][stream]") {
  StreamPipe pipe(4096);
  std::atomic<std::size_t> written{0};
  std::thread writer([&] {
    const std::string chunk(1024, 'x');
    for (int i = 0; i < 8; ++i) {
      pipe.writer().write(chunk);
      written += chunk.size();
    }
    pipe.closeWriter();
  });
  std::this_thread::sleep_for(100ms);
  CHECK(written == 4096);  // the buffer is full: the fifth write waits
  CHECK(readAll(pipe.reader()).size() == 8192);
  writer.join();
}

TEST_CASE("once the reader is gone a writer gets ReaderGone, blocked or not", "[unit][stream]") {
  StreamPipe pipe(1024);
  std::atomic<bool> gone{false};
  std::thread writer([&] {
    try {
      for (;;) pipe.writer().write(std::string(512, 'y'));  // `yes`
    } catch (const StreamPipe::ReaderGone&) {
      gone = true;
    }
  });
  char buffer[16];
  CHECK(pipe.reader().read(buffer, sizeof buffer) == 16);  // `head -c 16`
  pipe.closeReader();
  REQUIRE(dray::test::waitUntil([&] { return gone.load(); }, 5s, 1ms));
  writer.join();
  CHECK(pipe.readerClosed());
}

TEST_CASE("cancelling the reader ends a read that waits for a writer that is silent", "[unit][stream]") {
  StreamPipe pipe(1024);
  std::atomic<std::size_t> got{99};
  std::thread reader([&] {
    char buffer[16];
    got = pipe.reader().read(buffer, sizeof buffer);  // the step before prints nothing for now
  });
  std::this_thread::sleep_for(50ms);
  CHECK(got == 99);
  pipe.reader().cancel();  // the runtime: this container's output ended
  reader.join();
  CHECK(got == 0);
}

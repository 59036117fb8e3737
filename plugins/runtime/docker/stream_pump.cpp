#include "plugins/runtime/docker/stream_pump.hpp"

#include <array>
#include <exception>
#include <thread>

#include <Poco/Exception.h>

#include "plugins/runtime/docker/frame_demuxer.hpp"

namespace dray::plugins::runtime::docker {
namespace {

constexpr std::size_t kChunk = 64 * 1024;

void sendAll(Poco::Net::StreamSocket& socket, const char* data, std::size_t size) {
  while (size > 0) {
    int sent = socket.sendBytes(data, static_cast<int>(size));
    if (sent <= 0) throw Poco::IOException("stdin closed");
    data += sent;
    size -= static_cast<std::size_t>(sent);
  }
}

void shutdownQuietly(Poco::Net::StreamSocket& socket) {
  try {
    socket.shutdown();
  } catch (const Poco::Exception&) {
    // Already closed by the peer: nothing left to wake.
  }
}

}  // namespace

void pumpStreams(AttachedStream& stream, sdk::RunIo& io) {
  std::exception_ptr source_error;
  std::thread writer([&stream, &io, &source_error] {
    std::array<char, kChunk> buffer;
    try {
      for (;;) {
        std::size_t n = 0;
        try {
          n = io.stdin_source.read(buffer.data(), buffer.size());
        } catch (...) {
          source_error = std::current_exception();
          break;
        }
        if (n == 0) break;
        sendAll(stream.socket, buffer.data(), n);
      }
      stream.socket.shutdownSend();
    } catch (const Poco::Exception&) {
      // The container exited or closed stdin without reading everything: normal.
    }
  });

  FrameDemuxer demuxer;
  auto deliver = [&io](FrameStream which, std::string_view payload) {
    if (which == FrameStream::kStderr) {
      io.stderr_sink.write(payload);
    } else {
      io.stdout_sink.write(payload);
    }
  };
  try {
    demuxer.feed(stream.leftover, deliver);
    std::array<char, kChunk> buffer;
    for (;;) {
      int n = stream.socket.receiveBytes(buffer.data(), static_cast<int>(buffer.size()));
      if (n <= 0) break;
      demuxer.feed(std::string_view(buffer.data(), static_cast<std::size_t>(n)), deliver);
    }
  } catch (...) {
    shutdownQuietly(stream.socket);
    io.stdin_source.cancel();  // a source waiting for a step upstream must not hold the join
    writer.join();
    throw;
  }
  shutdownQuietly(stream.socket);
  io.stdin_source.cancel();  // the container's output ended: it reads no more
  writer.join();
  // The socket is closed by its owner once nothing may still shut it down by number.
  if (source_error) std::rethrow_exception(source_error);
}

}  // namespace dray::plugins::runtime::docker

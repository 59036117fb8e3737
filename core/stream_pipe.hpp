#pragma once

#include <condition_variable>
#include <cstddef>
#include <mutex>
#include <stdexcept>
#include <vector>

#include "dray/sdk/stream.hpp"

namespace dray::core {

/// A bounded in-memory pipe between two steps of a stream-mode job. The writing step's
/// capture writes into writer(); the reading step's runtime reads reader() into its stdin.
/// A full pipe blocks the writer, so back-pressure reaches the writing container through
/// its attach stream; an empty one blocks the reader until data comes, the writer closes
/// (end of data) or the reader is cancelled. Once the reader is gone, a write throws
/// ReaderGone, which ends the writing step's run at once, the way a shell pipe's writer
/// gets SIGPIPE (rather than producing, and logging, output nobody reads).
/// One thread writes and one reads; closing may come from any thread.
class StreamPipe {
 public:
  /// Thrown to the writer once the reader is gone.
  class ReaderGone : public std::runtime_error {
   public:
    ReaderGone() : std::runtime_error("the step reading this output has ended") {}
  };

  explicit StreamPipe(std::size_t capacity);
  StreamPipe(const StreamPipe&) = delete;
  StreamPipe& operator=(const StreamPipe&) = delete;

  sdk::ByteSink& writer() { return writer_; }
  sdk::ByteSource& reader() { return reader_; }

  /// End of data: the reader gets what is left, then 0.
  void closeWriter();
  /// The reader wants nothing more: what it did not read is dropped, and a blocked or later
  /// write throws ReaderGone.
  void closeReader();
  bool readerClosed() const;
  /// Bytes the reader took so far.
  std::size_t bytesRead() const;

 private:
  class Writer final : public sdk::ByteSink {
   public:
    explicit Writer(StreamPipe& pipe) : pipe_(pipe) {}
    void write(std::string_view chunk) override { pipe_.write(chunk); }

   private:
    StreamPipe& pipe_;
  };
  class Reader final : public sdk::ByteSource {
   public:
    explicit Reader(StreamPipe& pipe) : pipe_(pipe) {}
    std::size_t read(char* buffer, std::size_t capacity) override { return pipe_.read(buffer, capacity); }
    void cancel() override { pipe_.closeReader(); }

   private:
    StreamPipe& pipe_;
  };

  void write(std::string_view chunk);
  std::size_t read(char* buffer, std::size_t capacity);

  mutable std::mutex mutex_;
  std::condition_variable changed_;
  std::vector<char> ring_;
  std::size_t head_ = 0;  // next byte to read
  std::size_t size_ = 0;  // bytes held
  std::size_t read_total_ = 0;
  bool writer_closed_ = false;
  bool reader_closed_ = false;
  Writer writer_{*this};
  Reader reader_{*this};
};

}  // namespace dray::core

#include "core/stream_pipe.hpp"

#include <algorithm>
#include <cstring>

namespace dray::core {

StreamPipe::StreamPipe(std::size_t capacity) : ring_(std::max<std::size_t>(capacity, 1)) {}

void StreamPipe::write(std::string_view chunk) {
  std::unique_lock lock(mutex_);
  while (!chunk.empty()) {
    changed_.wait(lock, [&] { return reader_closed_ || size_ < ring_.size(); });
    if (reader_closed_) throw ReaderGone();
    const std::size_t tail = (head_ + size_) % ring_.size();
    const std::size_t n = std::min({chunk.size(), ring_.size() - size_, ring_.size() - tail});
    std::memcpy(ring_.data() + tail, chunk.data(), n);
    size_ += n;
    chunk.remove_prefix(n);
    changed_.notify_all();
  }
}

std::size_t StreamPipe::read(char* buffer, std::size_t capacity) {
  std::unique_lock lock(mutex_);
  changed_.wait(lock, [&] { return reader_closed_ || writer_closed_ || size_ > 0; });
  if (reader_closed_ || size_ == 0) return 0;
  const std::size_t n = std::min({capacity, size_, ring_.size() - head_});
  std::memcpy(buffer, ring_.data() + head_, n);
  head_ = (head_ + n) % ring_.size();
  size_ -= n;
  read_total_ += n;
  changed_.notify_all();
  return n;
}

void StreamPipe::closeWriter() {
  std::lock_guard lock(mutex_);
  writer_closed_ = true;
  changed_.notify_all();
}

void StreamPipe::closeReader() {
  std::lock_guard lock(mutex_);
  reader_closed_ = true;
  size_ = 0;  // what was not read is dropped
  changed_.notify_all();
}

bool StreamPipe::readerClosed() const {
  std::lock_guard lock(mutex_);
  return reader_closed_;
}

std::size_t StreamPipe::bytesRead() const {
  std::lock_guard lock(mutex_);
  return read_total_;
}

}  // namespace dray::core

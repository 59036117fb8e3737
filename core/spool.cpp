#include "core/spool.hpp"

#include <cstring>
#include <stdexcept>

namespace dray::core {
namespace {

// Reads the spool's memory in place: the spool outlives its readers.
class MemoryReader final : public sdk::ByteSource {
 public:
  explicit MemoryReader(std::string_view data) : data_(data) {}
  std::size_t read(char* buffer, std::size_t capacity) override {
    std::size_t n = std::min(capacity, data_.size() - offset_);
    std::memcpy(buffer, data_.data() + offset_, n);
    offset_ += n;
    return n;
  }

 private:
  std::string_view data_;
  std::size_t offset_ = 0;
};

class FileReader final : public sdk::ByteSource {
 public:
  explicit FileReader(const std::string& path) : in_(path, std::ios::binary) {
    if (!in_) throw std::runtime_error("cannot reopen spool file " + path);
  }
  std::size_t read(char* buffer, std::size_t capacity) override {
    in_.read(buffer, static_cast<std::streamsize>(capacity));
    return static_cast<std::size_t>(in_.gcount());
  }

 private:
  std::ifstream in_;
};

}  // namespace

void Spool::write(std::string_view chunk) {
  size_ += chunk.size();
  if (!file_ && memory_.size() + chunk.size() > memory_limit_) spill();
  if (file_) {
    out_.write(chunk.data(), static_cast<std::streamsize>(chunk.size()));
    if (!out_) throw std::runtime_error("cannot write spool file " + file_->path());
  } else {
    memory_.append(chunk);
  }
}

void Spool::spill() {
  file_ = std::make_unique<Poco::TemporaryFile>();
  out_.open(file_->path(), std::ios::binary | std::ios::trunc);
  if (!out_) throw std::runtime_error("cannot create spool file " + file_->path());
  out_.write(memory_.data(), static_cast<std::streamsize>(memory_.size()));
  std::string().swap(memory_);  // give the memory back now, not at the end of the job
}

std::unique_ptr<sdk::ByteSource> Spool::reader() {
  if (!file_) return std::make_unique<MemoryReader>(memory_);
  if (out_.is_open()) {
    out_.close();
    if (!out_) throw std::runtime_error("cannot finish spool file " + file_->path());
  }
  return std::make_unique<FileReader>(file_->path());
}

}  // namespace dray::core

#pragma once

#include <fstream>
#include <memory>
#include <string>

#include <Poco/TemporaryFile.h>

#include "dray/sdk/stream.hpp"

namespace dray::core {

/// Holds one step's output for the next step: in memory up to `memory_limit` bytes,
/// then in a temporary file (deleted with the spool). Written fully, then read by as many
/// readers as needed (a retried step reads its input again); the spool outlives them.
class Spool final : public sdk::ByteSink {
 public:
  explicit Spool(std::size_t memory_limit) : memory_limit_(memory_limit) {}

  void write(std::string_view chunk) override;

  /// Finishes writing (on the first call) and returns a new reader over everything written.
  std::unique_ptr<sdk::ByteSource> reader();

  std::size_t size() const { return size_; }
  bool spilled() const { return file_ != nullptr; }

 private:
  void spill();

  std::size_t memory_limit_;
  std::size_t size_ = 0;
  std::string memory_;
  std::unique_ptr<Poco::TemporaryFile> file_;
  std::ofstream out_;
};

/// A source with no data (stdin of the first step).
class EmptySource final : public sdk::ByteSource {
 public:
  std::size_t read(char*, std::size_t) override { return 0; }
};

}  // namespace dray::core

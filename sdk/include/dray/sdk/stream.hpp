/// Byte streams: how data moves between steps, never as one big string.
#pragma once

#include <cstddef>
#include <string_view>

#include "dray/sdk/visibility.hpp"

namespace dray::sdk {

/// Receives bytes in arbitrary chunks. Implementations must copy what they keep: the
/// chunk is only valid during the call. Called from one thread at a time.
class DRAY_SDK_API ByteSink {
 public:
  virtual ~ByteSink() = default;

  /// Appends `chunk`. May block (back-pressure); throws on a failure it cannot hide.
  virtual void write(std::string_view chunk) = 0;
};

/// Yields bytes until exhausted. Called from one thread at a time.
class DRAY_SDK_API ByteSource {
 public:
  virtual ~ByteSource() = default;

  /// Copies up to `capacity` bytes into `buffer` and returns how many; 0 means end of data.
  /// May block until data comes (a stream from a step still running).
  virtual std::size_t read(char* buffer, std::size_t capacity) = 0;
  /// The reader wants no more data (a runtime calls it once its container's output ended,
  /// or its run failed): a read() blocked now, and every later one, must return 0 soon.
  /// Called from another thread than read(). Default: nothing, for sources that never block.
  virtual void cancel() {}
};

}  // namespace dray::sdk

#pragma once

#include <cstddef>
#include <string_view>

namespace dray::api {

inline constexpr std::size_t kMaxJsonKeysPerObject = 1000;
inline constexpr std::size_t kMaxJsonDepth = 64;
/// Values in one body. Poco builds an object per value (about 2 µs each for small
/// objects here), so this keeps the worst 1 MiB body near 100 ms of parsing; a real job
/// (256 steps with a few dozen variables each) stays well below it.
inline constexpr std::size_t kMaxJsonValues = 40000;

/// A linear pass over a JSON body before the real parser sees it: refuses (HttpError 400)
/// an object with more than `max_keys` keys, nesting deeper than `max_depth` or more than
/// `max_values` values in all. Poco's parser keeps key order by searching the keys already
/// seen, so a body of 100,000 keys would cost minutes of a core; this pass costs one read
/// of the bytes. Syntax errors are left to the parser.
void checkJsonShape(std::string_view body, std::size_t max_keys = kMaxJsonKeysPerObject,
                    std::size_t max_depth = kMaxJsonDepth, std::size_t max_values = kMaxJsonValues);

}  // namespace dray::api
